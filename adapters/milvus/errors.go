package milvus

import (
	"errors"

	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
)

// ErrorCode implements driver.ErrorClassifier: it classifies the errors
// the driver returns (raw milvusclient errors among them).
func (d *Driver) ErrorCode(err error) driver.Code { return classify(err) }

// classify returns the driver code of err: *driver.Error and context
// errors first, then gRPC status codes, then Milvus's error codes.
func classify(err error) driver.Code {
	if err == nil {
		return driver.Unknown
	}
	if c := driver.CodeOf(err); c != driver.Unknown {
		return c
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		if c := grpcerr.FromCode(se.GRPCStatus().Code()); c != driver.Unknown {
			return c
		}
	}
	return milvusCode(merr.Code(err))
}

// milvusCode maps the codes of Milvus's error catalogue (merr).
func milvusCode(code int32) driver.Code {
	switch code {
	case merr.Code(merr.ErrCollectionNotFound), merr.Code(merr.ErrPartitionNotFound),
		merr.Code(merr.ErrDatabaseNotFound), merr.Code(merr.ErrAliasNotFound):
		return driver.NotFound
	case merr.Code(merr.ErrCollectionNotLoaded), merr.Code(merr.ErrPartitionNotLoaded),
		merr.Code(merr.ErrIndexNotFound), merr.Code(merr.ErrCollectionSchemaMismatch),
		merr.Code(merr.ErrCollectionLoaded):
		return driver.FailedPrecondition
	case merr.Code(merr.ErrParameterInvalid), merr.Code(merr.ErrParameterMissing),
		merr.Code(merr.ErrParameterTooLarge), merr.Code(merr.ErrCollectionIllegalSchema),
		merr.Code(merr.ErrFieldNotFound), merr.Code(merr.ErrFieldInvalidName),
		merr.Code(merr.ErrInvalidInsertData), merr.Code(merr.ErrMissingRequiredParameters),
		merr.Code(merr.ErrIncorrectParameterFormat), merr.Code(merr.ErrCheckPrimaryKey),
		merr.Code(merr.ErrDatabaseInvalidName), merr.Code(merr.ErrIndexNotSupported):
		return driver.InvalidArgument
	case merr.Code(merr.ErrAliasAlreadyExist), merr.Code(merr.ErrIndexDuplicate),
		merr.Code(merr.ErrResourceGroupAlreadyExist):
		return driver.AlreadyExists
	case merr.Code(merr.ErrPrivilegeNotAuthenticated), merr.Code(merr.ErrNeedAuthenticate):
		return driver.Unauthenticated
	case merr.Code(merr.ErrPrivilegeNotPermitted):
		return driver.PermissionDenied
	case merr.Code(merr.ErrServiceMemoryLimitExceeded), merr.Code(merr.ErrServiceTooManyRequests),
		merr.Code(merr.ErrServiceDiskLimitExceeded), merr.Code(merr.ErrServiceRateLimit),
		merr.Code(merr.ErrServiceQuotaExceeded), merr.Code(merr.ErrCollectionNumLimitExceeded),
		merr.Code(merr.ErrGeneralCapacityExceeded), merr.Code(merr.ErrDatabaseNumLimitExceeded),
		merr.Code(merr.ErrHTTPRateLimit):
		return driver.ResourceExhausted
	case merr.Code(merr.ErrServiceNotReady), merr.Code(merr.ErrServiceUnavailable),
		merr.Code(merr.ErrServiceResourceInsufficient), merr.Code(merr.ErrCollectionNotFullyLoaded),
		merr.Code(merr.ErrPartitionNotFullyLoaded), merr.Code(merr.ErrCollectionOnRecovering),
		merr.Code(merr.ErrReplicaNotAvailable), merr.Code(merr.ErrChannelNotAvailable),
		merr.Code(merr.ErrNodeNotAvailable), merr.Code(merr.ErrServiceTimeTickLongDelay):
		return driver.Unavailable
	case merr.Code(merr.ErrServiceUnimplemented), merr.Code(merr.ErrOperationNotSupported),
		merr.Code(merr.ErrSegcoreUnsupported):
		return driver.Unimplemented
	case merr.CanceledCode:
		return driver.Canceled
	case merr.TimeoutCode:
		return driver.DeadlineExceeded
	}
	return driver.Unknown
}

// notLoaded reports whether err says the collection is not loaded.
func notLoaded(err error) bool {
	c := merr.Code(err)
	return c == merr.Code(merr.ErrCollectionNotLoaded) || c == merr.Code(merr.ErrPartitionNotLoaded)
}
