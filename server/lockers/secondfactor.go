package lockers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/server/outbox"
)

// The second factor's rules: a code of CodeDigits digits is good for
// CodeValid and CodeTries tries; a new one is sent at most every
// ResendAfter (a second press sooner says where the first went).
const (
	CodeDigits  = 6
	CodeValid   = 5 * time.Minute
	CodeTries   = 3
	ResendAfter = 30 * time.Second
)

// Errors of the second factor.
var (
	// ErrNoDeposit: the office has no such deposit waiting for pickup.
	ErrNoDeposit = errors.New("no document waits for pickup under this deposit")
	// ErrNotNeeded: the deposit's document needs no second factor.
	ErrNotNeeded = errors.New("this deposit's document needs no second factor")
	// ErrNoPhone: the deposit has no phone number the server can text.
	ErrNoPhone = errors.New("no phone number the server can send a text message to is kept for this deposit")
)

type factorKey struct{ office, deposit string }

// oneTime is a code in flight: only its hash is kept.
type oneTime struct {
	hash   [32]byte
	sentAt time.Time
	until  time.Time
	tries  int
	masked string
}

// Send makes a one-time code for deposit and texts it to the phone the
// clerk gave; it returns the number masked ("+48 *** *** 789") for the
// locker's screen.
func (s *Service) Send(ctx context.Context, office, deposit string) (string, error) {
	a := s.offices[office]
	if a == nil {
		return "", fmt.Errorf("second factor for office %s: %w", office, ErrNoDeposit)
	}
	var d queue.Deposit
	found := false
	if err := a.Query(ctx, func(st *queue.State) {
		if p := st.Deposits[deposit]; p != nil {
			d, found = *p, true
		}
	}); err != nil {
		return "", fmt.Errorf("second factor: reading office %s's deposits: %w", office, err)
	}
	if !found || d.State != queue.DepositStateStored && d.State != queue.DepositStateExpired {
		return "", fmt.Errorf("second factor for deposit %s of office %s: %w", deposit, office, ErrNoDeposit)
	}
	if !d.SecondFactor {
		return "", fmt.Errorf("second factor for deposit %s of office %s: %w", deposit, office, ErrNotNeeded)
	}
	rec, ok, err := s.cfg.DB.LockerDeposit(office, deposit)
	if err != nil {
		return "", fmt.Errorf("second factor: reading deposit %s of office %s: %w", deposit, office, err)
	}
	if !ok || rec.Phone == "" || s.cfg.Notices == nil || !s.cfg.Notices.Reaches(rec.Phone) || outbox.ChannelOf(rec.Phone) != outbox.SMS {
		return "", fmt.Errorf("second factor for deposit %s of office %s: %w", deposit, office, ErrNoPhone)
	}
	now := s.cfg.Clock()
	key := factorKey{office, deposit}
	s.mu.Lock()
	if f := s.factors[key]; f != nil && now.Sub(f.sentAt) < ResendAfter && now.Before(f.until) {
		s.mu.Unlock()
		return f.masked, nil
	}
	s.mu.Unlock()
	code, err := s.newCode()
	if err != nil {
		return "", err
	}
	nonce, err := s.newCode()
	if err != nil {
		return "", err
	}
	n := notice.Notice{Kind: notice.LockerSecondFactor, Office: office, Lang: rec.Lang, Contact: rec.Phone, Code: code,
		Locker: depositNotice(d), Key: "locker-second-factor/" + office + "/" + deposit + "/" + now.UTC().Format(time.RFC3339Nano) + "/" + nonce}
	if err := s.cfg.Notices.Send(ctx, n); err != nil {
		return "", fmt.Errorf("handing on deposit %s's one-time code (office %s): %w", deposit, office, err)
	}
	f := &oneTime{hash: sha256.Sum256([]byte(code)), sentAt: now, until: now.Add(CodeValid), masked: outbox.MaskContact(rec.Phone)}
	s.mu.Lock()
	s.factors[key] = f
	s.mu.Unlock()
	s.cfg.Logger.Info("a one-time code for a locker pickup is sent", "office", office, "deposit", deposit)
	return f.masked, nil
}

// Check says whether code is deposit's one-time code, sent less than
// CodeValid ago and tried fewer than CodeTries times; a right code is
// good once.
func (s *Service) Check(_ context.Context, office, deposit, code string) (bool, error) {
	code = strings.Join(strings.Fields(code), "")
	key := factorKey{office, deposit}
	now := s.cfg.Clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.factors[key]
	if f == nil {
		return false, nil
	}
	if !now.Before(f.until) || f.tries >= CodeTries {
		delete(s.factors, key)
		return false, nil
	}
	f.tries++
	got := sha256.Sum256([]byte(code))
	if subtle.ConstantTimeCompare(got[:], f.hash[:]) == 1 {
		delete(s.factors, key)
		s.cfg.Logger.Info("a locker pickup's one-time code is right", "office", office, "deposit", deposit)
		return true, nil
	}
	s.cfg.Logger.Info("a wrong one-time code for a locker pickup", "office", office, "deposit", deposit, "tries", f.tries)
	if f.tries >= CodeTries {
		delete(s.factors, key)
	}
	return false, nil
}

// newCode is CodeDigits random digits, each as likely as any other.
func (s *Service) newCode() (string, error) {
	r := s.cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	const space = 1_000_000
	// The largest multiple of space below 2^32: drawing again above it
	// keeps the digits uniform.
	const limit = (1 << 32) / space * space
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("making a one-time code: %w", err)
		}
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return fmt.Sprintf("%0*d", CodeDigits, v%space), nil
		}
	}
}

// forgetFactor drops deposit's code once the deposit ended.
func (s *Service) forgetFactor(office, deposit string) {
	s.mu.Lock()
	delete(s.factors, factorKey{office, deposit})
	s.mu.Unlock()
}

// forgetStaleFactors drops the codes past their time.
func (s *Service) forgetStaleFactors() {
	now := s.cfg.Clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, f := range s.factors {
		if !now.Before(f.until) {
			delete(s.factors, k)
		}
	}
}
