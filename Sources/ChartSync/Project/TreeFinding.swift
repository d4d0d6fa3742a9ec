import ChartSyncCore

/// One problem the working-tree gate found: which file, what was expected, what is there.
public struct TreeFinding: Sendable, Equatable, CustomStringConvertible {
    /// What a finding is about.
    public enum Check: String, Sendable, CaseIterable {
        /// charts/external against versions.lock.
        case charts
        /// versions.lock against the chart list.
        case lock
        /// images.lock against the vendored charts and the chart list's `images:` section.
        case images
        /// The image store (`images/`) against images.lock.
        case store
        /// helmfile's releases (helmfile.yaml and what it pulls in) against the vendored and custom charts.
        case helmfile
    }

    /// The kind of problem; the raw values are the stable codes of `verify --json`.
    public enum Code: String, Sendable, CaseIterable {
        /// A file or directory versions.lock lists is not there.
        case missing
        /// A tarball's sha256 or size differs from versions.lock.
        case checksumMismatch = "checksum-mismatch"
        /// A file of an unpacked chart differs from its tarball (or the tree digest from the lock).
        case treeMismatch = "tree-mismatch"
        /// Something in charts/external that versions.lock does not list.
        case unlisted
        /// A symbolic link or special file where a regular file or directory belongs.
        case notRegular = "not-regular"
        /// A file that could not be read (an I/O failure, not a mismatch).
        case unreadable
        /// A chart in the chart list without a versions.lock entry.
        case notLocked = "not-locked"
        /// A versions.lock entry the chart list no longer lists.
        case notListed = "not-listed"
        /// The chart list's constraint does not admit the locked version.
        case constraintNotAdmitted = "constraint-not-admitted"
        /// The constraint still admits the locked version but is not the one it was resolved from.
        case constraintChanged = "constraint-changed"
        /// The chart's repository URL differs from the one it was locked from.
        case repositoryChanged = "repository-changed"
        /// `unpack` differs between the chart list and versions.lock.
        case unpackChanged = "unpack-changed"
        /// The chart list's digest differs from the lock's for another reason (devel, allowMissingDigest).
        case chartListChanged = "chart-list-changed"
        /// The chart list has an `images:` section but there is no images.lock.
        case imagesLockMissing = "images-lock-missing"
        /// images.lock is not valid, or a chart could not be read for its images.
        case imagesLockInvalid = "images-lock-invalid"
        /// A chart uses an image images.lock does not list.
        case imageMissing = "image-missing"
        /// images.lock lists an image nothing uses.
        case imageUnused = "image-unused"
        /// images.lock names other charts for an image.
        case imageChartsChanged = "image-charts-changed"
        /// A chart pins a digest images.lock records otherwise.
        case imageDigestChanged = "image-digest-changed"
        /// An images.lock image without an `images/index.json` entry, or with one for another digest.
        case imageNotStored = "image-not-stored"
        /// An `images/index.json` entry images.lock does not list.
        case imageNotLocked = "image-not-locked"
        /// A blob an image of `images/index.json` needs is not in `images/blobs/sha256`.
        case blobMissing = "blob-missing"
        /// A blob's bytes do not hash to its name (or its size is not the one its manifest says).
        case blobMismatch = "blob-mismatch"
        /// A blob no image of `images/index.json` needs.
        case blobUnneeded = "blob-unneeded"
        /// `images/` is not a valid image layout: index.json or oci-layout missing or invalid, a
        /// manifest that does not decode, a file that is not a blob.
        case imageStoreInvalid = "image-store-invalid"
        /// A release's local `chart:` path names nothing.
        case releaseChartMissing = "release-chart-missing"
        /// A release's chart is not vendored: a `repo/name` or `oci://` chart versions.lock does
        /// not list, or a local path that is neither a locked chart in charts/external nor a
        /// chart in charts/custom.
        case notVendored = "not-vendored"
        /// A release's `version:` does not admit the version versions.lock holds.
        case releaseVersionMismatch = "release-version-mismatch"
        /// A release's `values:` or `secrets:` file is not there (or not a regular file), and the
        /// release's `missingFileHandler` does not tolerate it.
        case releaseValuesMissing = "release-values-missing"
        /// A sub-helmfile, base or environment values file a helmfile names is not there.
        case helmfileFileMissing = "helmfile-file-missing"
        /// A helmfile file that is not valid YAML or not shaped like a helmfile.
        case helmfileInvalid = "helmfile-invalid"
        /// A helmfile file that could not be read (an I/O failure).
        case helmfileUnreadable = "helmfile-unreadable"
        /// Warning: a Go-template action chartsync does not evaluate; what depends on it is not checked.
        case templateNotEvaluated = "template-not-evaluated"
        /// Warning: a remote sub-helmfile (`git::`, `http(s)://`) the offline gate does not read.
        case helmfileNotRead = "helmfile-not-read"

        /// The check the code belongs to.
        public var check: Check {
            switch self {
            case .missing, .checksumMismatch, .treeMismatch, .unlisted, .notRegular, .unreadable: return .charts
            case .notLocked, .notListed, .constraintNotAdmitted, .constraintChanged, .repositoryChanged, .unpackChanged,
                 .chartListChanged: return .lock
            case .imagesLockMissing, .imagesLockInvalid, .imageMissing, .imageUnused, .imageChartsChanged, .imageDigestChanged:
                return .images
            case .imageNotStored, .imageNotLocked, .blobMissing, .blobMismatch, .blobUnneeded, .imageStoreInvalid:
                return .store
            case .releaseChartMissing, .notVendored, .releaseVersionMismatch, .releaseValuesMissing, .helmfileFileMissing, .helmfileInvalid,
                 .helmfileUnreadable, .templateNotEvaluated, .helmfileNotRead:
                return .helmfile
            }
        }

        /// A warning: reported, never a failure.
        public var isWarning: Bool { self == .templateNotEvaluated || self == .helmfileNotRead }
    }

    /// The kind of problem.
    public let code: Code
    /// The file concerned, relative to the project root.
    public let file: String
    /// The 1-based line in `file`, when known (chart list entries).
    public let line: Int?
    /// The chart concerned, when one is.
    public let chart: String?
    /// What versions.lock (or the chart's tarball) says should be there.
    public let expected: String
    /// What is there.
    public let actual: String
    /// The problem in words (without the file name).
    public let message: String
    /// For store findings: the images (index.json references) concerned, sorted.
    public var images: [String] = []
    /// For helmfile findings: the release concerned.
    public var release: String?

    /// Creates a finding.
    public init(_ code: Code, file: String, line: Int? = nil, chart: String?, expected: String, actual: String, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.chart = chart
        self.expected = expected
        self.actual = actual
        self.message = message
    }

    /// The check it belongs to.
    public var check: Check { code.check }

    /// Verification failure, or I/O failure for a file that could not be read.
    public var kind: FailureKind { code == .unreadable || code == .helmfileUnreadable ? .io : .verification }

    /// A warning (a template not evaluated, a remote file not read): reported, never a failure.
    public var isWarning: Bool { code.isWarning }

    /// `file[:line]: message`.
    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
