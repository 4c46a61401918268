package clock

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	restore := Stop(at)
	if got := Now(); !got.Equal(at) {
		t.Fatalf("stopped clock: %v, want %v", got, at)
	}
	Advance(time.Second)
	if got := Now(); !got.Equal(at.Add(time.Second)) {
		t.Fatalf("advanced clock: %v", got)
	}
	restore()
	if d := time.Since(Now()); d < 0 || d > time.Minute {
		t.Fatalf("restored clock is %v off the wall clock", d)
	}
	Advance(time.Hour) // nothing on the wall clock
	if d := time.Since(Now()); d < 0 || d > time.Minute {
		t.Fatalf("Advance moved the wall clock by %v", d)
	}
}
