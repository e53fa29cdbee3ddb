package queue

import "sort"

// CallsSince answers a device's question "who has been called since the
// event seq I last saw?": the calls and recalls folded in after seq, oldest
// first, each with its ticket's number, its counter and its own seq (the
// next question's answer starts after the last one's Seq). A hall says and
// blinks these; a counter display flashes those to its counter.
//
// It answers from the calls the state keeps for the hall (the latest 20):
// a device that fell further behind hears of the newest ones only. A
// call whose ticket was withdrawn since (RequestWithdrawn) is not among
// them: nobody holds that number, so it must not be said.
func (s *State) CallsSince(seq uint64) []RecentCall {
	// s.Calls is in seq order (newest last): find the first one after seq.
	i := sort.Search(len(s.Calls), func(i int) bool { return s.Calls[i].Seq > seq })
	if i == len(s.Calls) {
		return nil
	}
	return append([]RecentCall(nil), s.Calls[i:]...)
}

// RecentCalls are the calls the state keeps for the hall, newest first, as
// View.Calls has them.
func (s *State) RecentCalls() []RecentCall {
	if len(s.Calls) == 0 {
		return nil
	}
	out := make([]RecentCall, 0, len(s.Calls))
	for i := len(s.Calls) - 1; i >= 0; i-- {
		out = append(out, s.Calls[i])
	}
	return out
}
