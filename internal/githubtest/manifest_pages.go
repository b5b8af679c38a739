package githubtest

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// The manifest flow's web pages (manifest.go) and the App's install page.
// They are GitHub's web, not its REST API: no contract applies.

// manifestPageRoutes registers the pages.
func (s *Server) manifestPageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /settings/apps/new", s.newAppPage)
	mux.HandleFunc("GET /organizations/{org}/settings/apps/new", s.newAppPage)
	mux.HandleFunc("POST /settings/apps/new", s.newAppFromManifest)
	mux.HandleFunc("POST /organizations/{org}/settings/apps/new", s.newAppFromManifest)
	mux.HandleFunc("GET /apps/{slug}/installations/new", s.installPage)
	mux.HandleFunc("POST /apps/{slug}/installations/new", s.install)
}

// defaultManifestLogin is the person registering a personal App when the
// form names none (the emulator has no sign-in; field `login` picks one).
const defaultManifestLogin = "octocat"

var newAppTemplate = template.Must(template.New("new").Parse(`<!doctype html>
<title>Register new GitHub App</title>
<h1>Register new GitHub App{{if .Org}} for {{.Org}}{{end}}</h1>
<form method="post" action="?state={{.State}}">
<p><label>Manifest (JSON)<br><textarea name="manifest" rows="20" cols="80"></textarea></label></p>
<p><label>Registering as <input name="login" value="octocat"></label></p>
<button>Create GitHub App</button>
</form>
`))

// newAppPage is GET /settings/apps/new: a form to paste a manifest into,
// for a person trying the flow by hand in the sandbox.
func (s *Server) newAppPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	newAppTemplate.Execute(w, map[string]string{"Org": r.PathValue("org"), "State": r.URL.Query().Get("state")})
}

// newAppFromManifest is the manifest form's POST: GitHub's "Create GitHub
// App" confirmation is taken as given (the post is the person's click), so
// the App is registered at once and the browser redirected to the
// manifest's redirect_url with the code and the form's state. A manifest
// GitHub would refuse gets a 422 page listing every problem.
func (s *Server) newAppFromManifest(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot read the form: "+err.Error(), http.StatusBadRequest)
		return
	}
	raw := r.PostForm.Get("manifest")
	if raw == "" {
		http.Error(w, "The form has no manifest field: nothing to register.", http.StatusBadRequest)
		return
	}
	// GitHub's documentation puts state in the form action's query; a
	// form field is taken too.
	state := r.URL.Query().Get("state")
	if state == "" {
		state = r.PostForm.Get("state")
	}
	m, problems := s.parseManifest(raw)
	if len(problems) > 0 {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, "<!doctype html>\n<title>Invalid GitHub App manifest</title>\n<h1>Invalid GitHub App manifest</h1>\n<ul>\n")
		for _, p := range problems {
			fmt.Fprintf(w, "<li>%s</li>\n", template.HTMLEscapeString(p))
		}
		fmt.Fprintln(w, "</ul>")
		return
	}
	s.mu.Lock()
	var owner *User
	if org := r.PathValue("org"); org != "" {
		owner = s.userLocked(org, "Organization")
	} else {
		login := strings.TrimSpace(r.PostForm.Get("login"))
		if login == "" {
			login = defaultManifestLogin
		}
		owner = s.userLocked(login, "User")
	}
	s.mu.Unlock()
	code, err := s.registerApp(m, owner)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, withCode(m.RedirectURL, code, state), http.StatusFound)
}

var installTemplate = template.Must(template.New("install").Parse(`<!doctype html>
<title>Install {{.Name}}</title>
<h1>Install {{.Name}}</h1>
<form method="post">
<p><label>Account <input name="account"></label></p>
<p><label>Only these repositories (owner/name, one a line; empty: all of the account's)<br><textarea name="repositories" rows="4" cols="60"></textarea></label></p>
<button>Install</button>
</form>
`))

// installPage is the App's html_url + /installations/new, where the next
// steps of a registration send the person.
func (s *Server) installPage(w http.ResponseWriter, r *http.Request) {
	app := s.App()
	if r.PathValue("slug") != app.Slug {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	installTemplate.Execute(w, app)
}

// install is the install form's POST: the App installed on the account
// (CreateInstallation, with its installation webhook).
func (s *Server) install(w http.ResponseWriter, r *http.Request) {
	app := s.App()
	if r.PathValue("slug") != app.Slug {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot read the form: "+err.Error(), http.StatusBadRequest)
		return
	}
	account := strings.TrimSpace(r.PostForm.Get("account"))
	if account == "" {
		http.Error(w, "Choose an account to install the App on.", http.StatusUnprocessableEntity)
		return
	}
	repos := strings.Fields(r.PostForm.Get("repositories"))
	for _, full := range repos {
		if owner, _, _ := strings.Cut(full, "/"); owner != account {
			http.Error(w, fmt.Sprintf("%s is not a repository of %s", full, account), http.StatusUnprocessableEntity)
			return
		}
	}
	id := s.CreateInstallation(account, repos...)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html>\n<title>Installed</title>\n<p>%s is installed on %s (installation %d).</p>\n",
		template.HTMLEscapeString(app.Name), template.HTMLEscapeString(account), id)
}
