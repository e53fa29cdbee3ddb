package queue

// Room is how many more visits of service fit in one slot that already
// holds visits (the service of each, one entry a visit): every visit needs
// a counter of its own that serves its matter, so a counter serving two
// matters is counted once between them. It is a bipartite matching of
// visits to counters, augmented one new visit at a time; BookingRules.
// PerSlot, when set, caps the service's visits further.
func (o *Office) Room(service string, visits []string) int {
	m := matcher{o: o, counterOf: map[int]int{}}
	for i, v := range visits {
		m.visits = append(m.visits, v)
		if !m.place(i) {
			// Already more visits than counters can take (a counter
			// removed from the configuration): no room.
			return 0
		}
	}
	room := 0
	for {
		m.visits = append(m.visits, service)
		if !m.place(len(m.visits) - 1) {
			break
		}
		room++
	}
	if cap := o.Booking.PerSlot; cap > 0 {
		same := 0
		for _, v := range visits {
			if v == service {
				same++
			}
		}
		room = min(room, max(cap-same, 0))
	}
	return room
}

// matcher pairs visits with counters (Kuhn's augmenting paths); offices
// have a few counters, so its cost is small.
type matcher struct {
	o      *Office
	visits []string
	// counterOf maps a counter's index in o.Counters to the visit it
	// has.
	counterOf map[int]int
	seen      map[int]bool
}

func (m *matcher) place(visit int) bool {
	m.seen = map[int]bool{}
	return m.augment(visit)
}

func (m *matcher) augment(visit int) bool {
	for ci, c := range m.o.Counters {
		if !c.Serves(m.visits[visit]) || m.seen[ci] {
			continue
		}
		m.seen[ci] = true
		other, taken := m.counterOf[ci]
		if !taken || m.augment(other) {
			m.counterOf[ci] = visit
			return true
		}
	}
	return false
}

// Assign gives each visit of one slot a counter serving its matter (the
// counter's number, 0 for a visit no counter is left for), as Room counts
// them: where staff may expect each visit.
func (o *Office) Assign(visits []string) []int {
	m := matcher{o: o, counterOf: map[int]int{}, visits: visits}
	for i := range visits {
		m.place(i)
	}
	out := make([]int, len(visits))
	for ci, v := range m.counterOf {
		out[v] = o.Counters[ci].Number
	}
	return out
}
