package protocol

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// lockerPath is a path under the office's URL of one of the locker
// routes, with its {locker} (and {deposit}) filled in.
func lockerPath(route, locker, deposit string) string {
	p := strings.TrimPrefix(route, "/api/v1/offices/{office}")
	p = strings.Replace(p, "{locker}", url.PathEscape(locker), 1)
	return strings.Replace(p, "{deposit}", url.PathEscape(deposit), 1)
}

// LockerReport tells the server what a door of locker did (the locker
// role's token). Sending the same report (its ID) again is harmless.
func (c *Client) LockerReport(ctx context.Context, locker string, r LockerReport) (LockerReportAnswer, error) {
	var ans LockerReportAnswer
	_, err := c.do(ctx, "reporting "+r.Kind+" of compartment "+r.Compartment, "POST", lockerPath(LockerReportsPath, locker, ""), r, &ans)
	return ans, err
}

// SendLockerSecondFactor asks the server to send the one-time code of
// deposit to the resident's phone, and says where it went (masked).
func (c *Client) SendLockerSecondFactor(ctx context.Context, locker, deposit string) (string, error) {
	var sent LockerSecondFactorSent
	_, err := c.do(ctx, "sending the second factor of deposit "+deposit, "POST", lockerPath(LockerSecondFactorPath, locker, deposit), struct{}{}, &sent)
	return sent.SentTo, err
}

// CheckLockerSecondFactor asks the server whether code is the one-time
// code it sent for deposit.
func (c *Client) CheckLockerSecondFactor(ctx context.Context, locker, deposit, code string) (bool, error) {
	var res LockerSecondFactorResult
	_, err := c.do(ctx, "checking the second factor of deposit "+deposit, "POST", lockerPath(LockerSecondFactorCheckPath, locker, deposit), LockerSecondFactorCode{Code: code}, &res)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity {
		return false, nil
	}
	return res.OK, err
}
