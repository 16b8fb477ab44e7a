package breaker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSettingsWithDefaults(t *testing.T) {
	t.Parallel()

	defaults := Settings{
		Failures:    5,
		Cooldown:    30 * time.Second,
		Probes:      1,
		MaxInFlight: 16,
		SlotWait:    20 * time.Millisecond,
		BusyWait:    250 * time.Millisecond,
	}
	custom := Settings{
		Failures:    2,
		Cooldown:    time.Second,
		Probes:      3,
		MaxInFlight: 1,
		SlotWait:    time.Second,
		BusyWait:    time.Millisecond,
	}

	tests := []struct {
		name string
		in   Settings
		want Settings
	}{
		{name: "zero", in: Settings{}, want: defaults},
		{
			name: "negative",
			in:   Settings{Cooldown: -1, MaxInFlight: -1, BusyWait: -1},
			want: defaults,
		},
		{name: "set", in: custom, want: custom},
		{
			name: "no slot wait",
			in:   Settings{SlotWait: -1},
			want: func() Settings { s := defaults; s.SlotWait = 0; return s }(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.in.withDefaults())
		})
	}
}

func TestNewRegistryOpenFloor(t *testing.T) {
	t.Parallel()

	short := NewRegistry(Settings{Cooldown: 20 * time.Millisecond})
	require.Equal(t, 20*time.Millisecond, short.openFloor)
	require.Equal(t, 100*time.Millisecond, NewRegistry(Settings{}).openFloor)
}
