package queue

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every error the commands make from a format has a code, with a name for
// each of the format's arguments, and the table holds no format no longer
// used: a new or reworded error cannot reach a screen in English only.
func TestEveryErrorHasACode(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			fn, ok := call.Fun.(*ast.Ident)
			if !ok || (fn.Name != "invalid" && fn.Name != "notFound" && fn.Name != "conflict") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: %s with a format that is not a literal", fset.Position(call.Pos()), fn.Name)
				return true
			}
			format, _ := strconv.Unquote(lit.Value)
			used[format] = true
			c, ok := errorCodes[format]
			switch {
			case !ok:
				t.Errorf("%s: %q has no code in errorCodes", fset.Position(call.Pos()), format)
			case len(c.params) != len(call.Args)-1:
				t.Errorf("%s: %q has %d arguments, its code %s names %d", fset.Position(call.Pos()), format, len(call.Args)-1, c.code, len(c.params))
			}
			return true
		})
	}
	codes := map[string]string{}
	for format, c := range errorCodes {
		if !used[format] {
			t.Errorf("errorCodes holds %q, which no error uses", format)
		}
		if other, dup := codes[c.code]; dup {
			t.Errorf("code %s names both %q and %q", c.code, format, other)
		}
		codes[c.code] = format
	}
}

func TestErrorsCarryCodeAndParams(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	_, err := h.try(CallNext{Counter: 1})
	qe, _ := err.(*Error)
	if qe == nil || qe.Code != "counter-closed" || qe.Params["counter"] != "1" {
		t.Fatalf("calling at a closed counter: %#v", err)
	}
	_, err = h.try(CallTicket{Counter: 1, Ticket: "Z999"})
	if qe, _ := err.(*Error); qe == nil || qe.Code == "" {
		t.Fatalf("calling a ticket at a closed counter: %#v", err)
	}
}
