package web

// publicRoutes declares the public pages (live frameworks, contract
// awards) anyone may read without signing in.
func (s *Server) publicRoutes(add adders) {}
