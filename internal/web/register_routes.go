package web

import "net/http"

// registerRoutes declares the contract register's pages.
func (s *Server) registerRoutes(add adders) {
	add.perm(http.MethodGet, "/register", "register", "read", (*Server).registerPage)
	add.perm(http.MethodGet, "/register.csv", "register", "read", (*Server).registerCSV)
}
