/// Why a registry request failed (resolving an image, listing tags, fetching a manifest or blob);
/// every case names what was asked for (`image` is an image or artifact reference such as
/// `registry/repository:tag`, or `registry/repository` for a tag list) or the registry, URLs are
/// redacted and no case ever holds a password or token.
///
/// `category` says how to report it (chartsync's exit codes): what the user must fix in the image
/// list or the registry settings (unknown tag, repository or blob, refused or missing credentials,
/// a plain-HTTP token service not allowed) is `.input` (exit 2); a registry that cannot be reached,
/// answers with an unexpected status or malformed data is `.io` (exit 3); a manifest or blob whose
/// bytes do not match the digest (or size) they were asked for by is `.verification` (exit 1).
public enum RegistryError: Error, Equatable, CustomStringConvertible {
    /// The reference cannot be asked for: a repository, tag or digest outside the grammar.
    case invalidReference(image: String, reason: String)
    /// The registry has no manifest under that tag (or digest) in the repository (HTTP 404,
    /// `MANIFEST_UNKNOWN`); the repository itself exists, or the registry does not say.
    case manifestUnknown(image: String)
    /// The registry has no such repository (`NAME_UNKNOWN`).
    case repositoryUnknown(image: String, registry: String)
    /// The registry (or its token service) refused the credentials, or refused anonymous access.
    case authenticationFailed(registry: String, reason: String)
    /// The registry asks for HTTP basic authentication and none is configured for it.
    case credentialsRequired(registry: String)
    /// The registry answered 403: the credentials are valid but may not pull this repository.
    case accessDenied(image: String, registry: String)
    /// The registry's token service is plain HTTP while the registry is not allowed plain HTTP.
    case insecureTokenRealm(registry: String, realm: String)
    /// No connection: connection refused, host not found, or a timeout.
    case unreachable(registry: String, url: String, message: String)
    /// The registry answered with a status chartsync cannot act on.
    case unexpectedStatus(image: String, url: String, status: Int, message: String?)
    /// An answer that is not what the distribution API specifies: a malformed digest header, a
    /// body that is no image manifest, a token response without a token, an unusable challenge.
    case malformedResponse(registry: String, url: String, reason: String)
    /// The manifest bytes hash to another digest than the one the registry or the reference names.
    case digestMismatch(image: String, expected: String, actual: String)
    /// The manifest fetched from `url` hashes to `actual`, not to `expected` (the digest it was
    /// asked for by, or the registry's `Docker-Content-Digest`).
    case manifestMismatch(image: String, url: String, expected: String, actual: String)
    /// The registry has no blob with that digest in the repository (HTTP 404); `blob` is
    /// `registry/repository@digest`.
    case blobUnknown(blob: String, registry: String)
    /// The blob's bytes from `url` hash to `actual`, not to the `expected` digest it was asked for by.
    case blobMismatch(blob: String, url: String, expected: String, actual: String)
    /// The blob from `url` has `actual` bytes (nil: more than `expected`, the transfer was cut
    /// there), not the `expected` size of its descriptor.
    case blobSizeMismatch(blob: String, url: String, expected: Int64, actual: Int64?)
    /// Another transport failure: TLS, a server error after all retries, too many redirects.
    case transport(registry: String, TransportError)
    /// The run was cancelled (Ctrl-C).
    case cancelled(image: String)
    /// A push found the tag naming other content than what it pushes (and was not told to overwrite).
    case tagConflict(image: String, existing: String, pushing: String)
    /// The registry (Harbor) has no project for the repository a push writes to.
    case projectMissing(registry: String, project: String, message: String)

    /// How a failure is to be reported; mirrors chartsync's `FailureKind` one to one.
    public enum Category: Sendable, Equatable {
        /// Proof failed (exit 1).
        case verification
        /// The image list or the registry settings are wrong (exit 2).
        case input
        /// I/O or network (exit 3).
        case io
        /// Interrupted (exit 130).
        case interrupted
    }

    /// How to report this error (see the type's documentation).
    public var category: Category {
        switch self {
        case .invalidReference, .manifestUnknown, .repositoryUnknown, .authenticationFailed, .credentialsRequired,
             .accessDenied, .insecureTokenRealm, .blobUnknown, .projectMissing:
            return .input
        case .unreachable, .unexpectedStatus, .malformedResponse, .transport:
            return .io
        case .digestMismatch, .manifestMismatch, .blobMismatch, .blobSizeMismatch, .tagConflict:
            return .verification
        case .cancelled:
            return .interrupted
        }
    }

    /// A message naming the image or registry, what was expected and what was found.
    public var description: String {
        switch self {
        case let .invalidReference(image, reason):
            return "cannot resolve image \(image): \(reason)"
        case let .manifestUnknown(image):
            return "\(image) not found: the registry has no manifest for it (unknown tag or digest)"
        case let .repositoryUnknown(image, registry):
            return "\(image) not found: registry \(registry) has no such repository"
        case let .authenticationFailed(registry, reason):
            return "authentication with registry \(registry) failed: \(reason)"
        case let .credentialsRequired(registry):
            return "registry \(registry) requires credentials (HTTP basic authentication) and none are configured for it"
        case let .accessDenied(image, registry):
            return "registry \(registry) denies access to \(image) (HTTP 403)"
        case let .insecureTokenRealm(registry, realm):
            return "registry \(registry) sends chartsync to the token service \(realm) over plain HTTP; "
                + "allow plain HTTP for that registry (or its token service's host) to accept it"
        case let .unreachable(registry, url, message):
            return "cannot reach registry \(registry) at \(url): \(message)"
        case let .unexpectedStatus(image, url, status, message):
            return "registry answered HTTP \(status) for \(image) (\(url))" + (message.map { ": \($0)" } ?? "")
        case let .malformedResponse(registry, url, reason):
            return "malformed answer from registry \(registry) (\(url)): \(reason)"
        case let .digestMismatch(image, expected, actual):
            return "manifest of image \(image) does not match its digest: expected \(expected), the bytes hash to \(actual)"
        case let .manifestMismatch(image, url, expected, actual):
            return "manifest of \(image) does not match its digest: expected \(expected), the bytes from \(url) hash to \(actual)"
        case let .blobUnknown(blob, registry):
            return "blob \(blob) not found: registry \(registry) has no such blob in the repository"
        case let .blobMismatch(blob, url, expected, actual):
            return "blob \(blob) does not match its digest: expected \(expected), the bytes from \(url) hash to \(actual)"
        case let .blobSizeMismatch(blob, url, expected, actual):
            let found = actual.map { "\($0) bytes" } ?? "more than \(expected) bytes"
            return "blob \(blob) does not have its descriptor's size: expected \(expected) bytes, \(url) sent \(found)"
        case let .transport(registry, error):
            return "registry \(registry): \(error.description)"
        case let .cancelled(image):
            return "cancelled while asking the registry for \(image)"
        case let .tagConflict(image, existing, pushing):
            return "\(image) already names \(existing), not \(pushing) (what this push carries); nothing was changed for it (--overwrite replaces the tag)"
        case let .projectMissing(registry, project, message):
            return "registry \(registry) has no project \"\(project)\" (\(message)); create it (Harbor: Projects > New project) or push under another --registry prefix"
        }
    }
}
