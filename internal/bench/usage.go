package bench

import (
	"fmt"
	"os"
	"time"
)

// proc is the proc file system the benchmark reads.
const proc = procfs("/proc")

// usage is the CPU time used so far by Herald, by its database and by the
// benchmark itself, which shares the machine. A figure that cannot be read
// is nil.
type usage struct {
	herald   *time.Duration
	database *time.Duration
	self     *time.Duration
}

// usage reads the CPU time of the Herald the run started, with its
// children, and of the database: every process named postgres for
// PostgreSQL, none for SQLite, which runs inside Herald.
func (r *runner) usage() usage {
	var u usage

	if s, err := proc.stat(os.Getpid()); err == nil {
		u.self = &s.cpu
	}

	if pid := r.herald.pid(); pid != 0 {
		cpu, err := proc.treeCPU(pid)
		r.note(err)

		if err == nil {
			u.herald = &cpu
		}
	}

	switch r.db {
	case dbSQLite:
		var zero time.Duration
		u.database = &zero
	case dbPostgres:
		cpu, err := proc.namedCPU("postgres")
		r.note(err)

		if err == nil {
			u.database = &cpu
		}
	}

	return u
}

// fillUsage sets the result's CPU per 1,000 deliveries from two readings,
// and Herald's peak RSS.
func (r *runner) fillUsage(before, after usage, delivered int) {
	r.res.HeraldCPUPer1000 = per1000(before.herald, after.herald, delivered)
	r.res.DatabaseCPUPer1000 = per1000(before.database, after.database, delivered)
	r.res.BenchCPUPer1000 = per1000(before.self, after.self, delivered)

	pid := r.herald.pid()
	if pid == 0 {
		return
	}

	rss, err := proc.peakRSS(pid)
	if err != nil {
		r.note(fmt.Errorf("peak rss: %w", err))
		return
	}

	r.res.HeraldPeakRSSBytes = &rss
}

// per1000 returns the CPU seconds used from before to after per 1,000 of
// n, or nil when either reading is missing or n is 0.
func per1000(before, after *time.Duration, n int) *float64 {
	if before == nil || after == nil || n == 0 {
		return nil
	}

	v := (*after - *before).Seconds() / float64(n) * 1000

	return &v
}
