package web

// exitRoutes declares the exit tracker's pages and actions.
func (s *Server) exitRoutes(add adders) {
	s.exitAdminRoutes(add)
}
