package api_test

import (
	"slices"
	"testing"

	"github.com/numerek/numerek/api/apitest"
	"github.com/numerek/numerek/queue"
)

// The document is a valid OpenAPI 3.1 document, and the validator can
// build every schema in it.
func TestDocumentIsValid(t *testing.T) {
	c, err := apitest.New()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Model.Version; got != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", got)
	}
	for _, p := range c.ValidateDocument() {
		t.Error(p)
	}
	for name, proxy := range c.Model.Components.Schemas.FromOldest() {
		if _, err := proxy.BuildSchema(); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
}

// The document's error codes are the office's: a code added to queue
// without documenting it (or the other way round) fails here, not only
// when a test happens to meet it.
func TestErrorCodesAreTheOffices(t *testing.T) {
	c, err := apitest.New()
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Model.Components.Schemas.GetOrZero("ErrorCode").BuildSchema()
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, n := range s.Enum {
		documented = append(documented, n.Value)
	}
	var codes []string
	for code := range queue.ErrorCodes() {
		codes = append(codes, code)
	}
	slices.Sort(documented)
	slices.Sort(codes)
	if !slices.Equal(documented, codes) {
		t.Errorf("ErrorCode enum %v\nqueue's codes   %v", documented, codes)
	}
}
