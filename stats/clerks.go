package stats

import (
	"sort"
	"strings"
	"time"

	"github.com/numerek/numerek/queue"
)

// Clerk is one member of staff's work over the range. The event's actor
// says whose it is: a ticket finished or marked no-show by "clerk:anna" is
// Anna's, and a resident's rating goes to whoever finished the ticket. A
// counter's hardware buttons act as "counter:5".
type Clerk struct {
	// Actor is as the log has it ("clerk:anna", "counter:5").
	Actor   string
	Served  int
	NoShows int
	// Services are the times at the counter of the tickets they finished.
	Services []time.Duration
	Ratings  map[queue.Rating]int
}

// Name is the clerk's login ("anna"), or the whole actor when it is not a
// clerk's.
func (c Clerk) Name() string {
	if name, ok := strings.CutPrefix(c.Actor, "clerk:"); ok {
		return name
	}
	return c.Actor
}

// IsClerk tells a person's work from a device's.
func (c Clerk) IsClerk() bool { return strings.HasPrefix(c.Actor, "clerk:") }

// ServiceMean is the mean time at the counter of what they finished.
func (c Clerk) ServiceMean() time.Duration { return mean(c.Services) }

// Rating is how many of their tickets got that rating.
func (c Clerk) Rating(r queue.Rating) int { return c.Ratings[r] }

// Rated is how many of their tickets were rated.
func (c Clerk) Rated() int {
	return c.Ratings[queue.RatingGood] + c.Ratings[queue.RatingNeutral] + c.Ratings[queue.RatingBad]
}

func (b *builder) clerk(actor string) *Clerk {
	c := b.clerks[actor]
	if c == nil {
		c = &Clerk{Actor: actor, Ratings: map[queue.Rating]int{}}
		b.clerks[actor] = c
	}
	return c
}

// clerkList puts people first, then devices, each by name.
func (b *builder) clerkList() []Clerk {
	out := make([]Clerk, 0, len(b.clerks))
	for _, c := range b.clerks {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].IsClerk() != out[j].IsClerk() {
			return out[i].IsClerk()
		}
		return out[i].Actor < out[j].Actor
	})
	return out
}
