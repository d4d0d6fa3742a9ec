@testable import ChartSync
import ChartSyncCore
import ChartSyncTransport
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
        case let .manifest(descriptor, i, depth): return "manifest \(i)/\(depth) \(descriptor.digest.suffix(1))"
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

    static func manifest(_ image: Int, depth: Int, _ hex: Character) -> Job {
        .manifest(OCIDescriptor(mediaType: "application/vnd.oci.image.manifest.v1+json",
                                digest: "sha256:" + String(repeating: hex, count: 64), size: 500),
                  image: image, depth: depth)
    }

    static let jobs: [Job] = [blob(300), .image(2), manifest(0, depth: 1, "c"), blob(5), blob(70_000_000), .image(0),
                              blob(300, "b"), manifest(0, depth: 1, "b"), manifest(0, depth: 2, "a"), .image(1)]
    static let manifests = ["image 0", "manifest 0/1 b", "manifest 0/1 c", "manifest 0/2 a", "image 1", "image 2"]

    @Test("odd slots: manifests first (by image, the top first), then the smallest blob")
    func oddSlots() {
        #expect(Self.order(Self.jobs, worker: 1) == Self.manifests + ["blob 5 a", "blob 300 a", "blob 300 b", "blob 70000000 a"])
        #expect(Self.order(Self.jobs, worker: 7) == Self.order(Self.jobs, worker: 1))
    }

    @Test("even slots: the largest blob first, then the others, then manifests")
    func evenSlots() {
        #expect(Self.order(Self.jobs, worker: 0) == ["blob 70000000 a", "blob 300 a", "blob 300 b", "blob 5 a"] + Self.manifests)
        #expect(Self.order(Self.jobs, worker: 6) == Self.order(Self.jobs, worker: 0))
    }
}
