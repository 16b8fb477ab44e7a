package storetest

import "testing"

func (s suite) health(t *testing.T) {
	t.Helper()
}
