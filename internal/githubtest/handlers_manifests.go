package githubtest

import "net/http"

// convertManifest is POST /app-manifests/{code}/conversions: the App a
// manifest code stands for, with its credentials (see manifest.go). It
// needs no authentication — the code is the credential — and answers each
// code once: a used, unknown or expired code is 404, as on GitHub.
func (s *Server) convertManifest(w http.ResponseWriter, r *http.Request) {
	app, ok := s.takeManifestCode(param(r, "code"))
	if !ok {
		notFound(w)
		return
	}
	s.mu.Lock()
	o := s.appJSONOf(&app)
	s.mu.Unlock()
	o["client_id"] = app.registered.clientID
	o["client_secret"] = app.registered.secret
	o["webhook_secret"] = app.WebhookSecret
	o["pem"] = string(app.PrivateKeyPEM)
	writeJSON(w, http.StatusCreated, o)
}
