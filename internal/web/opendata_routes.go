package web

// openDataRoutes declares the open data (OCDS) endpoints.
func (s *Server) openDataRoutes(add adders) {}
