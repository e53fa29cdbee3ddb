package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
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
	"github.com/numerek/numerek/store/pgstore"
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

// openWeb opens the web stores in dataDir, or in the shared database
// when there is one (nil: none). publicURL is where residents' phones
// reach the server; cookies are marked Secure when it is https.
func openWeb(ctx context.Context, dataDir, publicURL string, shared *pgstore.DB, clock func() time.Time, logger *slog.Logger) (*webParts, error) {
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("public URL %q: give the address phones reach the server at, e.g. https://kolejka.example.pl", publicURL)
		}
	}
	var (
		key   []byte
		vapid push.Keys
		db    *store.WebDB
		err   error
	)
	if shared != nil {
		if key, vapid, err = sharedKeys(ctx, shared, dataDir); err != nil {
			return nil, err
		}
		db, err = store.NewWebDB(shared.KV(webSpace))
	} else {
		if key, err = store.LoadOrCreateKey(filepath.Join(dataDir, keyFile)); err != nil {
			return nil, err
		}
		if vapid, err = push.LoadOrCreateKeys(filepath.Join(dataDir, vapidKeyFile)); err != nil {
			return nil, err
		}
		db, err = store.OpenWebDB(filepath.Join(dataDir, webFile))
	}
	if err != nil {
		return nil, err
	}
	signer := links.New(key, publicURL)
	return &webParts{
		db: db, links: signer, desk: booking.New(db, signer, clock, logger),
		clerks: store.NewClerkStore(filepath.Join(dataDir, clerksFile)),
		secure: strings.HasPrefix(publicURL, "https://"),
		vapid:  vapid,
	}, nil
}

// The side data's spaces in the shared database (store/kv): what web.db,
// outbox.db and fleet.db hold on one machine.
const (
	webSpace    = "web"
	outboxSpace = "outbox"
	fleetSpace  = "fleet"
)

// sharedKeys are the secret key and the VAPID key every node shares. The
// first node started on the database offers the keys of its --data
// folder if it has them (a server moved to PostgreSQL keeps its booking
// codes, e-ticket links and push subscriptions working), else new ones.
func sharedKeys(ctx context.Context, db *pgstore.DB, dataDir string) ([]byte, push.Keys, error) {
	offer := func(name string, fresh func() ([]byte, error)) ([]byte, error) {
		local, err := os.ReadFile(filepath.Join(dataDir, name))
		if errors.Is(err, os.ErrNotExist) {
			local, err = fresh()
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s to offer it to the other nodes: %w", name, err)
		}
		return db.Secret(ctx, name, local)
	}
	key, err := offer(keyFile, func() ([]byte, error) {
		k := make([]byte, store.KeySize)
		_, err := rand.Read(k)
		return k, err
	})
	if err != nil {
		return nil, push.Keys{}, err
	}
	if len(key) != store.KeySize {
		return nil, push.Keys{}, fmt.Errorf("the shared secret key is %d bytes, want %d", len(key), store.KeySize)
	}
	raw, err := offer(vapidKeyFile, push.NewRawKey)
	if err != nil {
		return nil, push.Keys{}, err
	}
	vapid, err := push.KeysFromRaw(raw)
	if err != nil {
		return nil, push.Keys{}, fmt.Errorf("the shared VAPID key: %w", err)
	}
	return key, vapid, nil
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
