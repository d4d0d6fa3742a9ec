import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport

/// Why `pull` stopped; every case names the chart, file or URL concerned.
public enum PullError: ChartSyncFailure, CustomStringConvertible {
    /// Another chartsync holds the project directory.
    case locked(path: String)
    /// A path chartsync writes is a symbolic link; it is never written through.
    case symlink(path: String)
    /// The repository's index has no chart of that name.
    case chartNotFound(chart: String, repository: String, suggestions: [String])
    /// No version of the chart satisfies the constraint.
    case noMatchingVersion(chart: String, constraint: String, repository: String, newest: String?)
    /// The index entry has no usable download URL.
    case noDownloadURL(chart: String, version: String)
    /// A remote repository's index names a download URL that is not http(s) (e.g. `file://`).
    case unsafeDownloadURL(chart: String, version: String, url: String, repository: String)
    /// The index entry has no sha256 digest (or a malformed one) and the chart list does not allow that.
    case missingDigest(chart: String, version: String, found: String?)
    /// The downloaded bytes are not the ones the index (or the lock) names.
    case digestMismatch(chart: String, version: String, url: String, expected: Digest, actual: Digest)
    /// The repository now publishes other bytes for a version the lock already records.
    case digestChanged(chart: String, version: String, locked: Digest, published: Digest)
    /// The tarball's Chart.yaml names another chart or version.
    case contentMismatch(chart: String, version: String, file: String, found: String)
    /// The unpacked tree differs from the lock's tree digest.
    case treeMismatch(chart: String, version: String, expected: Digest, actual: Digest)
    /// `--frozen`: the lock does not match the chart list.
    case staleLock(path: String, reason: String)
    /// `--frozen` without a lock.
    case noLock(path: String)
    /// The lock file, a credentials file or another input cannot be used; the message says which.
    case invalidInput(String)
    /// The index offers a version that cannot be part of a file name.
    case unsafeVersion(chart: String, version: String)
    /// A chart's tarball could not be read or unpacked.
    case badArchive(chart: String, version: String, reason: String)
    /// A repository index could not be read.
    case index(IndexError)
    /// Fetching failed.
    case transport(chart: String?, TransportError)
    /// The server refused access (401/403); `credentialsSent` tells a refused password from none
    /// sent; `keptFrom` is the origin the configured credentials stayed with when a redirect led
    /// elsewhere.
    case denied(chart: String?, TransportError, credentialsSent: Bool, keptFrom: String?)
    /// A file operation failed.
    case fileSystem(FileSystemError)
    /// A registry request for a chart of an `oci://` repository failed; reported as the
    /// registry error's category says.
    case registry(chart: String, RegistryError)
    /// The artifact under an `oci://` reference is not a Helm chart (another config media type,
    /// or no chart layer).
    case notAChart(chart: String, reference: String, reason: String)
    /// The registry now has another manifest under a version's tag than the lock records.
    case manifestChanged(chart: String, version: String, reference: String, locked: Digest, published: Digest)
    /// Several charts failed; each is reported.
    case several([PullError])
    /// Ctrl-C or SIGTERM.
    case interrupted

    /// A transport failure, told apart when the server refused access: whether credentials went
    /// to the host that refused (configured ones go to the request's origin only, unless
    /// `followRedirects`).
    static func transport(chart: String?, _ error: TransportError, request: String, credentials: Bool,
                          followRedirects: Bool) -> PullError {
        guard case .httpStatus(let url, let code) = error, code == 401 || code == 403 else {
            return .transport(chart: chart, error)
        }
        let elsewhere = !RepositoryURL.sameOrigin(url, RepositoryURL.redacted(request))
        let kept = credentials && elsewhere && !followRedirects
        return .denied(chart: chart, error, credentialsSent: credentials && !kept,
                       keptFrom: kept ? origin(RepositoryURL.redacted(request)) : nil)
    }

    /// `scheme://host[:port]` of a URL.
    private static func origin(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        return String(url[..<scheme.upperBound]) + String(rest.prefix { $0 != "/" })
    }

    public var kind: FailureKind {
        switch self {
        case .digestMismatch, .digestChanged, .contentMismatch, .treeMismatch, .missingDigest, .staleLock, .manifestChanged:
            return .verification
        case .chartNotFound, .noMatchingVersion, .noDownloadURL, .unsafeVersion, .noLock, .invalidInput, .notAChart:
            return .input
        case .registry(_, let error):
            switch error.category {
            case .verification: return .verification
            case .input: return .input
            case .io: return .io
            case .interrupted: return .interrupted
            }
        case .locked, .symlink, .badArchive, .index, .transport, .denied, .fileSystem, .unsafeDownloadURL:
            return .io
        case .interrupted:
            return .interrupted
        case .several(let errors):
            let kinds = errors.map(\.kind)
            if kinds.contains(.interrupted) { return .interrupted }
            if kinds.contains(.verification) { return .verification }
            if kinds.contains(.io) { return .io }
            return .input
        }
    }

    public var description: String {
        switch self {
        case let .locked(path):
            return "\(path) is locked: another chartsync is working on it"
        case let .symlink(path):
            return "\(path) is a symbolic link; chartsync does not write through links"
        case let .chartNotFound(chart, repository, suggestions):
            return "chart \"\(chart)\" not found in \(repository)"
                + (suggestions.isEmpty ? "" : "; did you mean " + suggestions.map { "\"\($0)\"" }.joined(separator: ", ") + "?")
        case let .noMatchingVersion(chart, constraint, repository, newest):
            return "no version of chart \"\(chart)\" in \(repository) satisfies \"\(constraint)\""
                + (newest.map { " (newest: \($0))" } ?? "")
        case let .unsafeVersion(chart, version):
            return "chart \"\(chart)\": the index's version \"\(version)\" cannot be used in a file name"
        case let .noDownloadURL(chart, version):
            return "chart \"\(chart)\" \(version) has no download URL in its index"
        case let .unsafeDownloadURL(chart, version, url, repository):
            return "chart \"\(chart)\" \(version): the index of \(repository) names \(url); a remote repository's charts "
                + "are downloaded over http(s) only (chartsync never reads local files because an index says so)"
        case let .missingDigest(chart, version, found):
            let what = found.map { "a malformed digest \"\($0)\"" } ?? "no digest"
            return "chart \"\(chart)\" \(version) has \(what) in its index, so the download cannot be proven (set allowMissingDigest: true for this chart to accept it)"
        case let .digestMismatch(chart, version, url, expected, actual):
            return "digest mismatch for chart \"\(chart)\" \(version) from \(url): expected \(expected.prefixed), got \(actual.prefixed)"
        case let .digestChanged(chart, version, locked, published):
            return "the repository now publishes other bytes for chart \"\(chart)\" \(version): versions.lock has \(locked.prefixed), the index \(published.prefixed); remove the entry from versions.lock to accept them"
        case let .contentMismatch(chart, version, file, found):
            return "\(file) should hold chart \"\(chart)\" \(version) but its Chart.yaml says \(found)"
        case let .treeMismatch(chart, version, expected, actual):
            return "unpacked chart \"\(chart)\" \(version): tree digest \(actual.prefixed), versions.lock has \(expected.prefixed)"
        case let .staleLock(path, reason):
            return "\(path) does not match the chart list: \(reason); run chartsync pull without --frozen"
        case let .noLock(path):
            return "\(path) does not exist; --frozen installs what a lock records"
        case let .invalidInput(message):
            return message
        case let .badArchive(chart, version, reason):
            return "chart \"\(chart)\" \(version): \(reason)"
        case let .index(error):
            return error.description
        case let .transport(chart, error):
            return (chart.map { "chart \"\($0)\": " } ?? "") + error.description
        case let .denied(chart, error, sent, keptFrom):
            let reason: String
            if sent {
                reason = ": the credentials were refused"
            } else if let keptFrom {
                reason = ": no credentials were sent to this host: the repository's credentials go to \(keptFrom) only "
                    + "(passCredentials: true also sends them to the hosts its index or redirects lead to)"
            } else {
                reason = ": no credentials were sent (set usernameEnv/passwordEnv, tokenEnv or credentialsFile for the repository)"
            }
            return (chart.map { "chart \"\($0)\": " } ?? "") + error.description + reason
        case let .registry(chart, error):
            return "chart \"\(chart)\": " + error.description
        case let .notAChart(chart, reference, reason):
            return "chart \"\(chart)\": \(reference) is not a Helm chart (\(reason))"
        case let .manifestChanged(chart, version, reference, locked, published):
            return "the registry now has another manifest for chart \"\(chart)\" \(version) (\(reference)): versions.lock has \(locked.prefixed), "
                + "the registry \(published.prefixed); remove the entry from versions.lock to accept it"
        case let .fileSystem(error):
            return error.description
        case let .several(errors):
            return errors.map(\.description).joined(separator: "\n")
        case .interrupted:
            return "interrupted; nothing was changed"
        }
    }
}

extension FileSystemError: ChartSyncFailure {
    public var kind: FailureKind { .io }
}
