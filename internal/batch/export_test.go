package batch

import "context"

// Run runs one batch of items as a drain would, and drops the results.
func (b *Batcher[T, R]) Run(items []T) {
	calls := make([]*call[T, R], len(items))
	for i, item := range items {
		calls[i] = &call[T, R]{ctx: context.Background(), item: item, done: make(chan struct{})}
	}

	b.run(calls)
}
