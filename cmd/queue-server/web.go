package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/voicepacks"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/server/push"
	"github.com/numerek/numerek/server/web"
	"github.com/numerek/numerek/stats"
	"github.com/numerek/numerek/store"
)

// webParts are the web pages' stores: bookings' personal data and
// sessions (web.db), clerk accounts (clerks.db), the secret key that
// signs e-ticket addresses and derives booking codes (web.key) and the
// key Web Push is sent with (vapid.key).
type webParts struct {
	db     *store.WebDB
	desk   *booking.Desk
	links  *links.Signer
	clerks web.Clerks
	secure bool
	// vapid is the key pair Web Push is sent with (vapid.key).
	vapid push.Keys
	web   *web.Web
	// outbox is the message outbox for the admins' page; nil when
	// [messages] is not configured.
	outbox web.Outbox
	// notices takes what residents are told (the outbox); nil sends
	// nothing.
	notices notice.Sender
	// voices say calls on the hall page; nil: the built-in packs.
	voices *audio.Voices
}

// openWeb opens the web stores in dataDir. publicURL is where residents'
// phones reach the server; cookies are marked Secure when it is https.
func openWeb(dataDir, publicURL string, clock func() time.Time, logger *slog.Logger) (*webParts, error) {
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("public URL %q: give the address phones reach the server at, e.g. https://kolejka.example.pl", publicURL)
		}
	}
	key, err := store.LoadOrCreateKey(filepath.Join(dataDir, "web.key"))
	if err != nil {
		return nil, err
	}
	vapid, err := push.LoadOrCreateKeys(filepath.Join(dataDir, vapidKeyFile))
	if err != nil {
		return nil, err
	}
	db, err := store.OpenWebDB(filepath.Join(dataDir, "web.db"))
	if err != nil {
		return nil, err
	}
	signer := links.New(key, publicURL)
	return &webParts{
		db: db, links: signer, desk: booking.New(db, signer, clock, logger),
		clerks: store.NewClerkStore(filepath.Join(dataDir, "clerks.db")),
		secure: strings.HasPrefix(publicURL, "https://"),
		vapid:  vapid,
	}, nil
}

// hallVoices are the hall page's voice packs: the built-in ones with the
// office's recorded packs in folder ([server] hall_voices) over them; nil
// when folder is empty (the page loads the built-in ones when first
// needed). A folder that holds no usable pack stops the server: the
// office asked for its own voice.
func hallVoices(folder string, logger *slog.Logger) (*audio.Voices, error) {
	if folder == "" {
		return nil, nil
	}
	v, err := voicepacks.Load(audio.DefaultRate, logger)
	if err != nil {
		return nil, err
	}
	if err := v.Load(os.DirFS(folder)); err != nil {
		return nil, fmt.Errorf("loading the hall page's voice packs from %s ([server] hall_voices): %w", folder, err)
	}
	return v, nil
}

// pushContact is the VAPID "sub" claim: whom a push service may tell
// about this server's pushes.
const pushContact = "https://github.com/numerek/numerek"

// mount adds the pages to the server.
func (wp *webParts) mount(srv *server.Server, scanners map[string]stats.Scanner, tokens web.Tokens, clock func() time.Time, logger *slog.Logger) error {
	w, err := web.New(web.Config{
		Server: srv, Booking: wp.desk, DB: wp.db, Clerks: wp.clerks, Tokens: tokens,
		Logs: scanners, Clock: clock, Logger: logger, SecureCookies: wp.secure, Outbox: wp.outbox,
		PushKeys: &wp.vapid, PushSubscriber: pushContact, Notices: wp.notices, Voices: wp.voices,
	})
	if err != nil {
		return err
	}
	w.Mount(srv)
	wp.web = w
	return nil
}

func runClerk(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("queue-server clerk", stderr)
	where := addAuthFlags(fs)
	name := fs.String("name", "", "login name: lowercase letters, digits, '.', '-', '_'")
	role := fs.String("role", "clerk", "clerk, manager or admin")
	offices := fs.String("office", "", "office id the clerk works in; several separated by commas; \"*\" for every office")
	remove := fs.Bool("delete", false, "delete the clerk instead")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: echo PASSWORD | queue-server clerk --data DIR|--store URL --name NAME --office ID[,ID] [--role clerk|manager|admin]\n       queue-server clerk --data DIR|--store URL --name NAME --delete\n\nCreates a clerk console account (or sets a new password), reading the\npassword (at least 10 characters) from the first line of standard input.\nOnly its bcrypt hash is stored.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	stores, err := where.open(ctx)
	if err != nil {
		return err
	}
	defer stores.close()
	cs := stores.clerks
	if *remove {
		found, err := cs.Delete(*name)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("no clerk %q", *name)
		}
		fmt.Fprintf(stdout, "clerk %s deleted; their sessions end at their next request\n", *name)
		return nil
	}
	if *offices == "" {
		return usageError(fs, "--office is required")
	}
	var list []string
	for _, o := range strings.Split(*offices, ",") {
		if o = strings.TrimSpace(o); o != "" {
			list = append(list, o)
		}
	}
	fmt.Fprint(stderr, "password: ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("reading the password: %w", err)
	}
	fmt.Fprintln(stderr)
	c, err := cs.Put(*name, strings.TrimRight(line, "\r\n"), *role, list)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "clerk %s (%s of %s) saved; log in at /staff/login\n", c.Name, c.Role, strings.Join(c.Offices, ", "))
	return nil
}

func runClerks(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("queue-server clerks", stderr)
	where := addAuthFlags(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	stores, err := where.open(ctx)
	if err != nil {
		return err
	}
	defer stores.close()
	list, err := stores.clerks.List()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-20s  %-6s  %s\n", "NAME", "ROLE", "OFFICES")
	for _, c := range list {
		fmt.Fprintf(stdout, "%-20s  %-6s  %s\n", c.Name, c.Role, strings.Join(c.Offices, ","))
	}
	return nil
}
