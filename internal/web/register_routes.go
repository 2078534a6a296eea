package web

// registerRoutes declares the contract register's pages.
func (s *Server) registerRoutes(add adders) {}
