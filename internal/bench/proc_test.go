package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// statLine returns a /proc/<pid>/stat line of the kernel's layout, with
// the given name, parent and CPU ticks, and plausible other fields.
func statLine(pid int, comm string, ppid int, utime, stime, cutime, cstime int) string {
	return strconv.Itoa(pid) + " (" + comm + ") S " + strconv.Itoa(ppid) +
		" 4242 4242 0 -1 4194560 18227 0 3 0 " +
		strconv.Itoa(utime) + " " + strconv.Itoa(stime) + " " +
		strconv.Itoa(cutime) + " " + strconv.Itoa(cstime) +
		" 20 0 9 0 582755 1287430144 10823 18446744073709551615 1 1 0 0 0 0 0 0 2143420159" +
		" 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
}

func TestParseStat(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		text string
		want procStat
	}{
		{
			name: "herald",
			text: statLine(4242, "herald", 1, 250, 50, 10, 5),
			want: procStat{comm: "herald", ppid: 1, cpu: 3150 * time.Millisecond},
		},
		{
			name: "name with spaces and parentheses",
			text: statLine(7, "a) b (c", 3, 1, 2, 0, 0),
			want: procStat{comm: "a) b (c", ppid: 3, cpu: 30 * time.Millisecond},
		},
		{
			name: "a line read from /proc/self/stat",
			text: "29054 (cat) R 29051 29051 22756 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 582755 " +
				"3133440 416 18446744073709551615 94134947274752 94134947294633 140732036867632 " +
				"0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
			want: procStat{comm: "cat", ppid: 29051},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := parseStat(tt.text)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseStatRejectsMalformed(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		text string
		want string
	}{
		"no comm":      {"12 herald S 1 2 3", "no (comm) field"},
		"short":        {"12 (herald) S 1 2 3", "4 fields after comm, want at least 15"},
		"bad ppid":     {"12 (herald) S x 0 0 0 0 0 0 0 0 0 1 2 3 4 5", `ppid: strconv.Atoi: parsing "x": invalid syntax`},
		"bad utime":    {"12 (herald) S 1 0 0 0 0 0 0 0 0 0 u 2 3 4 5", `utime: strconv.ParseUint: parsing "u": invalid syntax`},
		"bad cstime":   {"12 (herald) S 1 0 0 0 0 0 0 0 0 0 1 2 3 -4 5", `cstime: strconv.ParseUint: parsing "-4": invalid syntax`},
		"closing only": {"12 herald) S", "no (comm) field"},
	}

	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			_, err := parseStat(tt.text)
			require.EqualError(t, err, tt.want)
		})
	}
}

// statusText is /proc/<pid>/status of a Herald process, shortened.
const statusText = `Name:	herald
Umask:	0022
State:	S (sleeping)
Tgid:	4242
Pid:	4242
PPid:	1
VmPeak:	 1293044 kB
VmSize:	 1257240 kB
VmHWM:	   62148 kB
VmRSS:	   43292 kB
Threads:	9
`

func TestParsePeakRSS(t *testing.T) {
	t.Parallel()

	got, err := parsePeakRSS(statusText)
	require.NoError(t, err)
	require.Equal(t, int64(62148*1024), got)
}

func TestParsePeakRSSRejectsMalformed(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		text string
		want string
	}{
		"kernel thread": {"Name:\tkthreadd\nState:\tS (sleeping)\n", "no VmHWM line"},
		"unit":          {"VmHWM:\t   62148 MB\n", `VmHWM "62148 MB" is not in kB`},
		"number":        {"VmHWM:\t   6x kB\n", `VmHWM: strconv.ParseInt: parsing "6x": invalid syntax`},
	}

	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			_, err := parsePeakRSS(tt.text)
			require.EqualError(t, err, tt.want)
		})
	}
}

// fakeProc writes a proc file system of the given stat lines by pid, with
// files that are not processes beside them.
func fakeProc(t *testing.T, stats map[int]string) procfs {
	t.Helper()

	root := t.TempDir()
	for pid, line := range stats {
		dir := filepath.Join(root, strconv.Itoa(pid))
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "status"), []byte(statusText), 0o600))
	}

	require.NoError(t, os.WriteFile(filepath.Join(root, "uptime"), []byte("1 2\n"), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(root, "self"), 0o700))

	return procfs(root)
}

// machine is a process table: herald (10) with a child (11) that has a
// child of its own (12), PostgreSQL's postmaster (20) with two backends,
// and an unrelated process (30). Ticks are 10ms.
var machine = map[int]string{
	1:  statLine(1, "init", 0, 1000, 1000, 0, 0),
	10: statLine(10, "herald", 1, 100, 20, 3, 2),
	11: statLine(11, "sh", 10, 5, 5, 0, 0),
	12: statLine(12, "sleep", 11, 1, 0, 0, 0),
	20: statLine(20, "postgres", 1, 10, 10, 400, 100),
	21: statLine(21, "postgres", 20, 50, 25, 0, 0),
	22: statLine(22, "postgres", 20, 7, 3, 0, 0),
	30: statLine(30, "go", 1, 9999, 9999, 0, 0),
}

func TestTreeCPU(t *testing.T) {
	t.Parallel()

	fs := fakeProc(t, machine)

	got, err := fs.treeCPU(10)
	require.NoError(t, err)
	require.Equal(t, (100+20+3+2+5+5+1)*clockTick, got)

	got, err = fs.treeCPU(12)
	require.NoError(t, err)
	require.Equal(t, clockTick, got)

	_, err = fs.treeCPU(99)
	require.EqualError(t, err, "pid 99: no such process")
}

func TestNamedCPU(t *testing.T) {
	t.Parallel()

	fs := fakeProc(t, machine)

	got, err := fs.namedCPU("postgres")
	require.NoError(t, err)
	require.Equal(t, (10+10+400+100+50+25+7+3)*clockTick, got)

	got, err = fs.namedCPU("mysqld")
	require.NoError(t, err)
	require.Zero(t, got)
}

func TestPeakRSSOfProcess(t *testing.T) {
	t.Parallel()

	fs := fakeProc(t, machine)

	got, err := fs.peakRSS(10)
	require.NoError(t, err)
	require.Equal(t, int64(62148*1024), got)

	_, err = fs.peakRSS(99)
	require.Error(t, err)
}

// TestReadsThisProcess reads the real /proc entry of the test itself.
func TestReadsThisProcess(t *testing.T) {
	t.Parallel()

	s, err := proc.stat(os.Getpid())
	require.NoError(t, err)
	require.Equal(t, os.Getppid(), s.ppid)

	rss, err := proc.peakRSS(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, rss)

	_, err = proc.treeCPU(os.Getpid())
	require.NoError(t, err)
}
