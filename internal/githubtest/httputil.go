package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

const docsURL = "https://docs.github.com/rest"

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The client went away or v cannot be encoded (a bug the contract check reports).
		fmt.Fprintf(w, `{"message":%q}`, err.Error())
	}
}

// writeError answers with GitHub's basic error shape.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"message": message, "documentation_url": docsURL})
}

func notFound(w http.ResponseWriter) { writeError(w, http.StatusNotFound, "Not Found") }

// fieldError is one entry of a 422's "errors".
type fieldError struct {
	Resource, Field, Code, Message string
}

// validationFailed answers 422 the way GitHub does for invalid input.
func validationFailed(w http.ResponseWriter, errs ...fieldError) {
	list := make([]map[string]any, 0, len(errs))
	for _, e := range errs {
		m := map[string]any{"resource": e.Resource, "code": e.Code, "field": e.Field}
		if e.Message != "" {
			m["message"] = e.Message
		}
		list = append(list, m)
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            list,
		"documentation_url": docsURL,
	})
}

// decodeBody reads a JSON request body (the contract check has already
// validated it against the operation's schema).
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

// paginate applies GitHub's page/per_page to items and sets the Link header
// go-github reads NextPage and LastPage from.
func paginate[T any](w http.ResponseWriter, r *http.Request, items []T) []T {
	q := r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	if per > 100 {
		per = 100
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page <= 0 {
		page = 1
	}
	last := (len(items) + per - 1) / per
	if last == 0 {
		last = 1
	}
	link := func(p int, rel string) string {
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
		v := r.URL.Query()
		v.Set("page", strconv.Itoa(p))
		v.Set("per_page", strconv.Itoa(per))
		u.RawQuery = v.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		h := links[0]
		for _, l := range links[1:] {
			h += ", " + l
		}
		w.Header().Set("Link", h)
	}
	start := (page - 1) * per
	if start >= len(items) {
		return []T{}
	}
	end := min(start+per, len(items))
	return items[start:end]
}
