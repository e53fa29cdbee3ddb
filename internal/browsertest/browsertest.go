// Package browsertest starts Debian's Chromium for tests that use the web
// pages as a person would (chromedp), and runs their steps with errors
// that say where the browser was.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's chromium, which `make test` installs through
// scripts/install-deps.sh.
const ChromiumPath = "/usr/bin/chromium"

// Options are how the browser is started.
type Options struct {
	// Width and Height are the window's size.
	Width, Height int64
	// Frames keeps the compositor on its own threads, which a screenshot
	// needs. Without it the page is composited on its own thread: tests
	// that read the DOM, the layout and the accessibility tree never need
	// a frame, and the compositor threads took half the browser's CPU
	// (TestBrowserLongTextFits 49 to 24 CPU-s). requestAnimationFrame
	// does not run that way; the pages use none.
	Frames bool
	// Visible opens a real window on $DISPLAY instead of a headless
	// browser, as a TV's or a PC's browser shows a page (with Frames).
	Visible bool
	// Flags are further command-line flags of chromium
	// (chromedp.Flag("autoplay-policy", "no-user-gesture-required")).
	Flags []chromedp.ExecAllocatorOption
}

// Start runs one headless Chromium for the test, skipping the test where
// there is none; each tab is a context made from the one returned.
func Start(t testing.TB, opts Options) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Skipf("browser tests need %s (Debian package chromium; scripts/install-deps.sh installs it)", ChromiumPath)
	}
	ctx, stop, err := Launch(opts, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return ctx
}

// Launch is Start for code that has no testing.TB (a displaytest child
// process), with the browser's profile in userData; stop ends the
// browser.
func Launch(opts Options, userData string) (ctx context.Context, stop func(), err error) {
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(userData), chromedp.WindowSize(int(opts.Width), int(opts.Height)),
	)
	if opts.Visible {
		flags = append(flags, chromedp.VisibleWindow, chromedp.Flag("start-maximized", false))
	} else if !opts.Frames {
		flags = append(flags, chromedp.Flag("disable-threaded-compositing", true))
	}
	flags = append(flags, opts.Flags...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		cancelAlloc()
		return nil, nil, fmt.Errorf("starting chromium: %w", err)
	}
	return ctx, func() { cancel(); cancelAlloc() }, nil
}

// Do runs steps in the browser within timeout, failing the test with what
// was being done, where the browser was and what its page's main said.
func Do(t testing.TB, ctx context.Context, timeout time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("%s: %v\n(at %s)\n%s", what, err, loc, body)
	}
}
