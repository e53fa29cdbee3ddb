package queue_test

import (
	"fmt"
	"strings"

	"github.com/numerek/numerek/queue"
)

// An edge looks an action up by the name it was given, reads the action's
// parameters its own way (here a form's fields) and gets the command.
func ExampleCounterActionNamed() {
	form := map[string]string{"to_service": "docs", "keep_place": "yes", "note": " brings form 3 "}
	a, err := queue.CounterActionNamed("transfer")
	if err != nil {
		panic(err)
	}
	p, err := a.ParseParams(func(name string) string { return form[name] })
	if err != nil {
		panic(err)
	}
	cmd, err := a.Command(5, p)
	fmt.Println(queue.String(cmd), err)

	_, err = queue.CounterActionNamed("dance")
	fmt.Println(err)
	// Output:
	// queue.Transfer{Counter:5 Ticket: ToService:docs ToCounter:0 KeepPlace:true Note:brings form 3} <nil>
	// no counter action "dance"; the actions are next, recall, finish, rate, start, no-show, park, call, transfer, pause, open, close, undo
}

// The buttons a counter's box may have, and what each does.
func ExampleCounterButtons() {
	for _, b := range queue.CounterButtons() {
		fmt.Println(strings.TrimSpace(fmt.Sprint(b.Name, " -> ", b.Action, " ", b.Params.Rating)))
	}
	// Output:
	// next -> next
	// recall -> recall
	// finish -> finish
	// good -> rate good
	// neutral -> rate neutral
	// bad -> rate bad
	// start -> start
	// no-show -> no-show
	// park -> park
	// pause -> pause
	// open -> open
	// close -> close
	// undo -> undo
}
