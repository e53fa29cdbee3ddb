package push

import (
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/server/notice"
)

// Message is what a push carries to the service worker (JSON): a
// notification already written in the ticket's language, and the facts
// it was written from.
type Message struct {
	Kind    notice.Kind `json:"kind"`
	Title   string      `json:"title"`
	Body    string      `json:"body"`
	Number  string      `json:"number"`
	Counter int         `json:"counter,omitempty"`
	Ahead   int         `json:"ahead,omitempty"`
	Lang    string      `json:"lang"`
	// Tag groups one ticket's notifications: a recall replaces the call.
	Tag string `json:"tag"`
	// URL is the e-ticket page, opened when the notification is tapped.
	URL string `json:"url"`
	// Urgent notifications stay until the resident acts on them.
	Urgent bool `json:"urgent,omitempty"`
}

// compose writes a ticket's moment in lang.
func compose(c *i18n.Catalog, kind notice.Kind, lang, number string, counter, ahead int, url string) Message {
	m := Message{Kind: kind, Number: number, Counter: counter, Ahead: ahead, Lang: lang, Tag: "numerek-" + number, URL: url}
	switch kind {
	case notice.Called:
		m.Title = c.T(lang, "push.called.title", "number", number)
		m.Body = c.T(lang, "push.called.body", "counter", counter)
		m.Urgent = true
	case notice.Recalled:
		m.Title = c.T(lang, "push.recalled.title", "number", number)
		m.Body = c.T(lang, "push.recalled.body", "counter", counter)
		m.Urgent = true
	case notice.Ahead:
		m.Title = c.T(lang, "push.ahead.title", "number", number)
		m.Body = c.N(lang, "push.ahead.body", ahead)
	}
	return m
}
