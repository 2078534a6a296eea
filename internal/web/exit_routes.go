package web

import "net/http"

// exitRoutes declares the exit tracker's pages and actions: the dashboard
// and its CSV for anyone who may read the tracker (the scope comes from
// the acting organisation), each deployment's page for those whose scope
// covers it, and its exit plan for the trust's trust leads.
func (s *Server) exitRoutes(add adders) {
	get, post := http.MethodGet, http.MethodPost
	add.perm(get, "/exit", "exit", "read", (*Server).exitPage)
	add.perm(get, "/exit.csv", "exit", "read", (*Server).exitCSV)
	add.signedIn(get, "/exit/deployments/:id", true, (*Server).deploymentPage)
	add.signedIn(post, "/exit/deployments/:id", true, (*Server).deploymentSave)
	s.exitAdminRoutes(add)
}
