package audio

import (
	"github.com/numerek/numerek/internal/lockedbuf"
	"io"
	"log/slog"
)

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// logBuffer collects log lines for tests that check what was logged.
type logBuffer struct{ lockedbuf.Buffer }

func newLogBuffer() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}
