package storetest

import "testing"

func (s suite) search(t *testing.T) {
	t.Helper()
}
