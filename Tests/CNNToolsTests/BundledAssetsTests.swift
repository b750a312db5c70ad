// The committed demo model and sample images are exactly what the code
// builds today (README: `cnnrt demo-assets`), and the model classifies every
// sample correctly through the C API.
import CNNTools
import Foundation
import Testing

@Suite struct BundledAssetsTests {
  @Test func committedModelEqualsBuiltModel() throws {
    let committed = try Data(contentsOf: repoRoot.appendingPathComponent("models/shapes.cnnrt"))
    #expect([UInt8](committed) == (try DemoModel.build()),
            "models/shapes.cnnrt is stale: run `cnnrt demo-assets --model models/shapes.cnnrt --samples samples`")
  }

  @Test func committedSamplesEqualDrawnSamplesAndClassifyCorrectly() throws {
    let model = try RuntimeModel(path: repoRoot.appendingPathComponent("models/shapes.cnnrt").path)
    let set = DemoModel.sampleSet()
    #expect(set.count >= 12)
    for sample in set {
      let url = repoRoot.appendingPathComponent("samples/\(sample.name).pgm")
      let image = try PNM.read(path: url.path)
      #expect(image.pixels == sample.pixels, "samples/\(sample.name).pgm is stale")
      let scores = try model.classify(pixels: image.pixels, width: image.width, height: image.height,
                                      channels: image.channels)
      #expect(scores.first?.label == sample.shape.label, "\(sample.name) classified as \(scores.first?.label ?? "-")")
    }
  }
}
