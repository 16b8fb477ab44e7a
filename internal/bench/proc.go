package bench

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat. Linux
// reports them in USER_HZ, which is 100 on every architecture Go supports.
const clockTick = 10 * time.Millisecond

// procStat is what the benchmark reads of /proc/<pid>/stat.
type procStat struct {
	// comm is the executable's name, at most 15 bytes.
	comm string
	ppid int

	// cpu is the time the process spent on CPU, in user and kernel mode,
	// plus that of its children that have exited and been waited for.
	cpu time.Duration
}

// parseStat parses the text of /proc/<pid>/stat. The name in parentheses
// may hold spaces and parentheses of its own, so the fields are counted
// from the last ')'.
func parseStat(text string) (procStat, error) {
	open, end := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if open < 0 || end < open {
		return procStat{}, errors.New("no (comm) field")
	}

	// Fields from the 3rd (state) on; utime is the 14th, so rest[11].
	rest := strings.Fields(text[end+1:])
	if len(rest) < 15 {
		return procStat{}, fmt.Errorf("%d fields after comm, want at least 15", len(rest))
	}

	ppid, err := strconv.Atoi(rest[1])
	if err != nil {
		return procStat{}, fmt.Errorf("ppid: %w", err)
	}

	var ticks uint64

	for i, name := range []string{"utime", "stime", "cutime", "cstime"} {
		n, err := strconv.ParseUint(rest[11+i], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("%s: %w", name, err)
		}

		ticks += n
	}

	return procStat{
		comm: text[open+1 : end],
		ppid: ppid,
		cpu:  time.Duration(ticks) * clockTick, //nolint:gosec // ticks of one machine fit
	}, nil
}

// parsePeakRSS returns VmHWM, the peak resident set size, in bytes from
// the text of /proc/<pid>/status.
func parsePeakRSS(text string) (int64, error) {
	lines := bufio.NewScanner(strings.NewReader(text))
	for lines.Scan() {
		value, ok := strings.CutPrefix(lines.Text(), "VmHWM:")
		if !ok {
			continue
		}

		kib, ok := strings.CutSuffix(strings.TrimSpace(value), " kB")
		if !ok {
			return 0, fmt.Errorf("VmHWM %q is not in kB", strings.TrimSpace(value))
		}

		n, err := strconv.ParseInt(strings.TrimSpace(kib), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmHWM: %w", err)
		}

		return n * 1024, nil
	}

	return 0, errors.New("no VmHWM line")
}

// procfs reads processes from a proc file system: /proc, or a copy of
// part of one in tests.
type procfs string

// stat reads and parses the stat file of pid.
func (fs procfs) stat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join(string(fs), strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err //nolint:wrapcheck // the path says enough
	}

	s, err := parseStat(string(b))
	if err != nil {
		return procStat{}, fmt.Errorf("pid %d stat: %w", pid, err)
	}

	return s, nil
}

// peakRSS returns the peak resident set size of pid in bytes.
func (fs procfs) peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join(string(fs), strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err //nolint:wrapcheck // the path says enough
	}

	n, err := parsePeakRSS(string(b))
	if err != nil {
		return 0, fmt.Errorf("pid %d status: %w", pid, err)
	}

	return n, nil
}

// all returns the stat of every process. One that exits while it is read
// is skipped.
func (fs procfs) all() (map[int]procStat, error) {
	entries, err := os.ReadDir(string(fs))
	if err != nil {
		return nil, err //nolint:wrapcheck // the path says enough
	}

	procs := make(map[int]procStat, len(entries))

	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue // not a process
		}

		if s, err := fs.stat(pid); err == nil {
			procs[pid] = s
		}
	}

	return procs, nil
}

// treeCPU returns the CPU time of pid and all its descendants, those that
// run and those that have exited and been waited for.
func (fs procfs) treeCPU(pid int) (time.Duration, error) {
	procs, err := fs.all()
	if err != nil {
		return 0, err
	}

	if _, ok := procs[pid]; !ok {
		return 0, fmt.Errorf("pid %d: no such process", pid)
	}

	children := make(map[int][]int)
	for p, s := range procs {
		children[s.ppid] = append(children[s.ppid], p)
	}

	var (
		total time.Duration
		queue = []int{pid}
	)

	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		total += procs[p].cpu
		queue = append(queue, children[p]...)
	}

	return total, nil
}

// namedCPU returns the CPU time of every process named comm, with that of
// their children that have exited. A server that forks a process per
// connection, as PostgreSQL does, is counted whole: exited backends show
// in their parent's children's time.
func (fs procfs) namedCPU(comm string) (time.Duration, error) {
	procs, err := fs.all()
	if err != nil {
		return 0, err
	}

	var total time.Duration

	for _, s := range procs {
		if s.comm == comm {
			total += s.cpu
		}
	}

	return total, nil
}
