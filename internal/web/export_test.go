package web

import "io"

// WatchRendering has fn shown every page the server renders from now on
// (nil stops it). Set it only while no request is being served.
func (s *Server) WatchRendering(fn func(name string, p *Page)) { s.rendering = fn }

// RenderPage renders page name from p exactly as the portal does, with
// none of its middleware, session, database or authorisation work.
func (s *Server) RenderPage(w io.Writer, name string, p *Page) error {
	return s.templates.rendered(name, p, func(page []byte) error {
		_, err := w.Write(page)
		return err
	})
}
