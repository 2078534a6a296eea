package web

import "net/http"

// publicRoutes declares the public pages (live frameworks, contract
// awards) anyone may read without signing in.
func (s *Server) publicRoutes(add adders) {
	get := http.MethodGet
	add.pub(get, "/public/frameworks", (*Server).publicFrameworksPage)
	add.pub(get, "/public/frameworks/:id", (*Server).publicFrameworkPage)
	add.pub(get, "/public/awards", (*Server).publicAwardsPage)
}
