@testable import ChartSync
import ChartSyncCore
import Testing

/// The order in which `images --pull` runs its transfers (`ImagePuller.PullJob.pick`).
@Suite struct ImagePullOrderTests {
    typealias Job = ImagePuller.PullJob

    static let source = ImageReference(registry: "registry.example", repository: "team/app", tag: "1.0", digest: nil)

    static func blob(_ size: Int64, _ hex: Character = "a") -> Job {
        .blob(ImageLayout.Blob(digest: "sha256:" + String(repeating: hex, count: 64), size: size,
                               mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", isManifest: false,
                               images: ["registry.example/team/app:1.0"]),
              source: source)
    }

    static func describe(_ job: Job) -> String {
        switch job {
        case .image(let i): return "image \(i)"
        case let .blob(blob, _): return "blob \(blob.size) \(blob.digest.suffix(1))"
        }
    }

    /// The jobs in the order one worker would take them, picking again after each.
    static func order(_ jobs: [Job], worker: Int) -> [String] {
        var waiting = jobs
        var taken: [String] = []
        while !waiting.isEmpty {
            taken.append(describe(waiting.remove(at: Job.pick(waiting, worker: worker))))
        }
        return taken
    }

    @Test("manifests first, in images.lock's order; then the largest blob on even slots, the smallest on odd ones")
    func order() {
        let jobs: [Job] = [Self.blob(300), .image(2), Self.blob(5), Self.blob(70_000_000), .image(0), Self.blob(300, "b"), .image(1)]
        #expect(Self.order(jobs, worker: 0) == ["image 0", "image 1", "image 2", "blob 70000000 a", "blob 300 a", "blob 300 b", "blob 5 a"])
        #expect(Self.order(jobs, worker: 1) == ["image 0", "image 1", "image 2", "blob 5 a", "blob 300 a", "blob 300 b", "blob 70000000 a"])
        #expect(Self.order(jobs, worker: 6) == Self.order(jobs, worker: 0))
        #expect(Self.order(jobs, worker: 7) == Self.order(jobs, worker: 1))
    }
}
