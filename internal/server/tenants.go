package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/internal/subscriptions"
)

// PutTenant creates or updates a tenant.
func (h *handler) PutTenant(c echo.Context, tenantID TenantID) error {
	if err := subscriptions.ValidateTenantID(tenantID); err != nil {
		return invalidParam(err)
	}

	var in TenantInput
	if err := h.decodeBody(c, &in, false); err != nil {
		return err
	}

	params := subscriptions.TenantParams{Name: deref(in.Name)}
	if in.Metadata != nil {
		params.Metadata = *in.Metadata
	}

	t, err := subscriptions.NewTenant(tenantID, params)
	if err != nil {
		return err
	}

	t, created, err := h.store.PutTenant(c.Request().Context(), t)
	if err != nil {
		return err
	}

	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}

	return c.JSON(status, tenantBody(t))
}

// GetTenant answers one tenant.
func (h *handler) GetTenant(c echo.Context, tenantID TenantID) error {
	if err := subscriptions.ValidateTenantID(tenantID); err != nil {
		return invalidParam(err)
	}

	t, err := h.store.GetTenant(c.Request().Context(), tenantID)
	if err != nil {
		return err
	}

	return c.JSON(http.StatusOK, tenantBody(t))
}

// ListTenants answers one page of tenants in ascending order of id.
func (h *handler) ListTenants(c echo.Context, params ListTenantsParams) error {
	p, err := parsePage(params.Limit, params.Cursor)
	if err != nil {
		return err
	}

	tenants, err := h.store.ListTenants(c.Request().Context(), p.after, p.limit+1)
	if err != nil {
		return err
	}

	tenants, next := nextCursor(tenants, p.limit, func(t subscriptions.Tenant) string { return t.ID })

	body := TenantList{Data: make([]Tenant, len(tenants)), NextCursor: next}
	for i, t := range tenants {
		body.Data[i] = tenantBody(t)
	}

	return c.JSON(http.StatusOK, body)
}

// DeleteTenant deletes a tenant and its endpoints.
func (h *handler) DeleteTenant(c echo.Context, tenantID TenantID) error {
	if err := subscriptions.ValidateTenantID(tenantID); err != nil {
		return invalidParam(err)
	}

	if err := h.store.DeleteTenant(c.Request().Context(), tenantID); err != nil {
		return err
	}

	return c.NoContent(http.StatusNoContent)
}

func tenantBody(t subscriptions.Tenant) Tenant {
	return Tenant{
		Id:        t.ID,
		Name:      t.Name,
		Metadata:  t.Metadata,
		CreatedAt: t.CreatedAt,
		UpdatedAt: t.UpdatedAt,
	}
}

// deref returns *p, or the zero value when p is nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}

	return *p
}
