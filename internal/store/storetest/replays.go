package storetest

import "testing"

func (s suite) replays(t *testing.T) {
	t.Helper()
}
