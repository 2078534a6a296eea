package web

// exitAdminRoutes declares the exit tracker's administration: national
// contracts, the import of deployments and the rating rules.
func (s *Server) exitAdminRoutes(add adders) {}
