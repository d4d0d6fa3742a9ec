import ChartSyncBasics
import ChartSyncCore

extension ImageCollector {
    /// Whether images.lock is what `chartsync images` would write (digests it pins aside); nil
    /// when there is nothing to check (no images.lock and no `images:` section). The caller has
    /// proven the tarballs against the lock, so they are not hashed again here.
    public func lockFindings(_ list: ChartList, lock: Lockfile) -> [TreeFinding]? {
        let collector = self
        let file = "images.lock"
        let current: ImagesManifest?
        let expected: ExpectedImages
        do {
            current = try collector.current()
            guard current != nil || list.images != ChartList.ImageSettings() else { return nil }
            expected = try collector.expected(list, lock: lock, tarballsProven: true)
        } catch {
            return [TreeFinding(.imagesLockInvalid, file: file, chart: nil, expected: "a valid images.lock", actual: error.description,
                                message: error.description)]
        }
        guard let current else {
            return [TreeFinding(.imagesLockMissing, file: file, chart: nil, expected: "images.lock listing \(expected.manifest.images.count) image(s)",
                                actual: "missing", message: "missing, and \(FileSystem.baseName(layout.chartList)) has an images section; run chartsync images")]
        }
        return ImageCollector.differences(expected: expected.manifest, current: current).map { difference in
            let code: TreeFinding.Code
            switch difference.kind {
            case .missing: code = .imageMissing
            case .unused: code = .imageUnused
            case .chartsChanged: code = .imageChartsChanged
            case .digestChanged: code = .imageDigestChanged
            }
            return TreeFinding(code, file: file, chart: nil, expected: difference.expected, actual: difference.actual,
                               message: difference.description + "; run chartsync images")
        }
    }
}
