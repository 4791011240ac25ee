package mgmt

import (
	"context"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

// DiagnoseAccount implements adminv1.AdminServiceServer.
func (s *service) DiagnoseAccount(ctx context.Context, req *adminv1.DiagnoseAccountRequest) (*adminv1.AccountDiagnosis, error) {
	owner, err := parseOwner(req.GetOwner())
	if err != nil {
		return nil, s.fail("DiagnoseAccount", err)
	}
	platform, facts, err := s.admin.Diagnose(ctx, owner, ids.PlatformID(req.GetPlatform()))
	if err != nil {
		return nil, s.fail("DiagnoseAccount", err)
	}
	out := &adminv1.AccountDiagnosis{Owner: string(owner), Platform: string(platform)}
	for _, f := range facts {
		out.Facts = append(out.Facts, &adminv1.Fact{Name: f.Name, Value: f.Value})
	}
	return out, nil
}
