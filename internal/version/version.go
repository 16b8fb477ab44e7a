// Package version tells which build of Herald is running.
package version

import "runtime/debug"

// Version is the release this binary was built from, set at link time with
// -ldflags "-X github.com/heraldhq/herald/internal/version.Version=v1.2.3".
// When unset, [String] falls back to the module version or VCS revision
// recorded by the Go toolchain.
var Version = ""

// String returns the version of the running binary, "dev" when unknown.
func String() string {
	if Version != "" {
		return Version
	}

	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}

	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}

	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}

	return "dev"
}
