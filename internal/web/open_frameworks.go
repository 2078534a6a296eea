package web

import (
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
)

// openFrameworkView is an open framework on the public list with its lots
// and what it offers the person looking.
type openFrameworkView struct {
	framework.Framework
	State string
	Lots  []framework.Lot
	// ApplyURL is where a supplier applies; SignInURL sends anyone else
	// to sign in first and then on to it.
	ApplyURL, SignInURL string
}

// openFrameworksPage lists, for anyone and without signing in, the open
// frameworks (Procurement Act 2023) any supplier may apply to.
func (s *Server) openFrameworksPage(c echo.Context) error {
	ctx := c.Request().Context()
	list, err := s.Framework.PublicFrameworks(ctx)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	views := make([]openFrameworkView, len(list))
	for i, fw := range list {
		lots, err := s.Framework.Lots(ctx, fw.ID)
		if err != nil {
			return err
		}
		apply := "/frameworks/" + fw.ID + "/apply"
		views[i] = openFrameworkView{Framework: fw, State: fw.State(now), Lots: lots, ApplyURL: apply,
			SignInURL: "/sign-in?return_to=" + url.QueryEscape(apply)}
	}
	v := viewer(c)
	p := s.page(c, "Open frameworks")
	p.Data = map[string]any{
		"Frameworks": views,
		"Supplier":   v != nil && v.ActingOrg != nil && v.ActingOrg.Kind == orgs.KindSupplier,
		"SignedIn":   v != nil,
	}
	return s.renderOK(c, "open_frameworks", p)
}
