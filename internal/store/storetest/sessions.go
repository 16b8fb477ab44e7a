package storetest

import "testing"

func (s suite) sessions(t *testing.T) {
	t.Helper()
}
