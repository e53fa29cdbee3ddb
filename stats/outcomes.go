package stats

import (
	"slices"
	"sort"
)

// ServiceOutcomes is what clerks recorded as handled for the tickets of
// one service they finished (queue.TicketFinished.Outcomes). A ticket
// transferred counts in the service it was finished in.
type ServiceOutcomes struct {
	Service string
	// Finished counts the service's tickets finished; WithNone those
	// finished with no outcome recorded.
	Finished, WithNone int
	// Outcomes are in the order the office's configuration lists them,
	// then any id the configuration no longer has, by id; an outcome never
	// recorded is listed with 0.
	Outcomes []OutcomeCount
}

// OutcomeCount is how often one outcome was recorded.
type OutcomeCount struct {
	ID    string
	Count int
}

// Share is the outcome's part (0-1) of the service's finished tickets; one
// ticket can have several outcomes, so shares may add up above 1.
func (s ServiceOutcomes) Share(o OutcomeCount) float64 {
	if s.Finished == 0 {
		return 0
	}
	return float64(o.Count) / float64(s.Finished)
}

// NoneShare is the part (0-1) of the service's finished tickets with no
// outcome recorded.
func (s ServiceOutcomes) NoneShare() float64 { return s.Share(OutcomeCount{Count: s.WithNone}) }

// finishedWith counts a finish of service with outcomes: delta 1, or -1
// for a finish undone.
func (b *builder) finishedWith(service string, outcomes []string, delta int) {
	s := b.outcomes[service]
	if s == nil {
		s = &ServiceOutcomes{Service: service}
		b.outcomes[service] = s
	}
	s.Finished += delta
	if len(outcomes) == 0 {
		s.WithNone += delta
	}
	for _, id := range outcomes {
		i := slices.IndexFunc(s.Outcomes, func(o OutcomeCount) bool { return o.ID == id })
		if i < 0 {
			s.Outcomes = append(s.Outcomes, OutcomeCount{ID: id})
			i = len(s.Outcomes) - 1
		}
		s.Outcomes[i].Count += delta
	}
}

// outcomeList lists the services with outcomes configured or recorded, in
// the configuration's order of services.
func (b *builder) outcomeList() []ServiceOutcomes {
	var out []ServiceOutcomes
	seen := map[string]bool{}
	for _, svc := range b.office.Services {
		seen[svc.ID] = true
		got := b.outcomes[svc.ID]
		if len(svc.Outcomes) == 0 && (got == nil || len(got.Outcomes) == 0) {
			continue
		}
		s := ServiceOutcomes{Service: svc.ID}
		if got != nil {
			s.Finished, s.WithNone = got.Finished, got.WithNone
		}
		counted := map[string]int{}
		if got != nil {
			for _, o := range got.Outcomes {
				counted[o.ID] = o.Count
			}
		}
		for _, o := range svc.Outcomes {
			s.Outcomes = append(s.Outcomes, OutcomeCount{ID: o.ID, Count: counted[o.ID]})
			delete(counted, o.ID)
		}
		s.Outcomes = append(s.Outcomes, sortedCounts(counted)...)
		out = append(out, s)
	}
	// A service gone from the configuration keeps its history.
	var gone []string
	for id, s := range b.outcomes {
		if !seen[id] && len(s.Outcomes) > 0 {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		s := *b.outcomes[id]
		counted := map[string]int{}
		for _, o := range s.Outcomes {
			counted[o.ID] = o.Count
		}
		s.Outcomes = sortedCounts(counted)
		out = append(out, s)
	}
	return out
}

func sortedCounts(m map[string]int) []OutcomeCount {
	out := make([]OutcomeCount, 0, len(m))
	for id, n := range m {
		out = append(out, OutcomeCount{ID: id, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
