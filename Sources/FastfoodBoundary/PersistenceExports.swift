import CFastfood
import FastfoodEngine
import Glibc

// Saving and loading layers with their parameters (format: LayerFile, documented in the header).

private func elementType(_ code: UInt32) throws(BoundaryError) -> LayerFile.ElementType {
    guard let type = LayerFile.ElementType(rawValue: code) else {
        throw .invalidArgument("element_type (\(code)) is neither FASTFOOD_TYPE_F32 (1) nor FASTFOOD_TYPE_F64 (2)")
    }
    return type
}

private func fileSize(_ layer: LayerCore, _ type: LayerFile.ElementType) throws(BoundaryError) -> Int {
    guard let size = LayerFile.size(of: layer.shape, type) else {
        throw .sizeOverflow("the saved layer would be larger than an address space holds")
    }
    return size
}

@c @implementation
public func fastfood_save_size(_ layer: OpaquePointer?, _ element_type: UInt32, _ size: UnsafeMutablePointer<Int>?) -> fastfood_status {
    exported("fastfood_save_size") { () throws(BoundaryError) in
        let layer = try LayerHandle.layer(layer)
        let type = try elementType(element_type)
        let destination = try Validate.nonNull(size, "size")
        destination.pointee = try fileSize(layer, type)
    }
}

private func save(_ handle: OpaquePointer?, _ params: UnsafeRawPointer?, _ type: LayerFile.ElementType,
                  _ buffer: UnsafeMutableRawPointer?, _ bufferSize: Int) throws(BoundaryError) {
    let layer = try LayerHandle.layer(handle)
    let params = try Validate.nonNull(params, "params")
    let buffer = try Validate.nonNull(buffer, "buffer")
    let needed = try fileSize(layer, type)
    guard bufferSize >= 0, bufferSize >= needed else {
        throw .invalidArgument("buffer_size (\(unsigned(bufferSize))) is smaller than the \(needed) bytes fastfood_save_size reports")
    }
    LayerFile.write(layer, params: params, type: type, into: buffer)
}

@c @implementation
public func fastfood_save_f32(_ layer: OpaquePointer?, _ params: UnsafePointer<Float>?, _ buffer: UnsafeMutableRawPointer?,
                              _ buffer_size: Int) -> fastfood_status {
    exported("fastfood_save_f32") { () throws(BoundaryError) in
        try save(layer, params.map(UnsafeRawPointer.init), .float32, buffer, buffer_size)
    }
}

@c @implementation
public func fastfood_save_f64(_ layer: OpaquePointer?, _ params: UnsafePointer<Double>?, _ buffer: UnsafeMutableRawPointer?,
                              _ buffer_size: Int) -> fastfood_status {
    exported("fastfood_save_f64") { () throws(BoundaryError) in
        try save(layer, params.map(UnsafeRawPointer.init), .float64, buffer, buffer_size)
    }
}

private func saveFile(_ handle: OpaquePointer?, _ params: UnsafeRawPointer?, _ type: LayerFile.ElementType,
                      _ path: UnsafePointer<CChar>?) throws(BoundaryError) {
    let layer = try LayerHandle.layer(handle)
    let params = try Validate.nonNull(params, "params")
    let path = try Validate.nonNull(path, "path")
    let size = try fileSize(layer, type)
    guard let image = malloc(size) else { throw .outOfMemory("could not allocate \(size) bytes for the file's image") }
    defer { free(image) }
    LayerFile.write(layer, params: params, type: type, into: image)
    do throws(FileIO.Failure) { try FileIO.writeAtomically(path, image, count: size) }
    catch { throw BoundaryError(status: FASTFOOD_ERROR_IO, message: error.message) }
}

@c @implementation
public func fastfood_save_file_f32(_ layer: OpaquePointer?, _ params: UnsafePointer<Float>?, _ path: UnsafePointer<CChar>?) -> fastfood_status {
    exported("fastfood_save_file_f32") { () throws(BoundaryError) in
        try saveFile(layer, params.map(UnsafeRawPointer.init), .float32, path)
    }
}

@c @implementation
public func fastfood_save_file_f64(_ layer: OpaquePointer?, _ params: UnsafePointer<Double>?, _ path: UnsafePointer<CChar>?) -> fastfood_status {
    exported("fastfood_save_file_f64") { () throws(BoundaryError) in
        try saveFile(layer, params.map(UnsafeRawPointer.init), .float64, path)
    }
}

/// Full validation: the image, then the permutations regenerated from the seed against the
/// digest. Returns the header and the regenerated layer.
private func validate(_ bytes: UnsafeRawPointer, _ count: Int) throws(BoundaryError) -> (LayerFile.Info, LayerCore) {
    let info: LayerFile.Info
    do throws(LayerFile.Failure) { info = try LayerFile.validate(bytes, count: count) } catch { throw describe(error) }
    guard let layer = LayerCore.make(shape: info.shape, seed: info.seed) else {
        throw .outOfMemory("could not allocate the permutations of a \(info.shape.inFeatures) -> \(info.shape.outFeatures) layer")
    }
    guard LayerFile.permutationDigest(layer) == info.permutationDigest else {
        layer.deallocate()
        throw BoundaryError(status: FASTFOOD_ERROR_BAD_FORMAT,
                            message: "the permutations regenerated from seed \(info.seed) do not match the stored digest")
    }
    return (info, layer)
}

private func describe(_ failure: LayerFile.Failure) -> BoundaryError {
    switch failure {
    case .badFormat(let message):
        BoundaryError(status: FASTFOOD_ERROR_BAD_FORMAT, message: message)
    case .unsupportedVersion(let version):
        BoundaryError(status: FASTFOOD_ERROR_UNSUPPORTED_VERSION,
                      message: "format version \(version) is newer than this library reads (\(LayerFile.version))")
    }
}

/// Reads a file's image (header checked against the real size first); the caller frees it.
private func readFile(_ path: UnsafePointer<CChar>?) throws(BoundaryError) -> (UnsafeMutableRawPointer, Int) {
    let path = try Validate.nonNull(path, "path")
    do throws(FileIO.LoadFailure) { return try FileIO.readLayerFile(path) } catch {
        switch error {
        case .io(let message): throw BoundaryError(status: FASTFOOD_ERROR_IO, message: message)
        case .outOfMemory(let message): throw .outOfMemory(message)
        case .format(let failure): throw describe(failure)
        }
    }
}

private struct InfoOutputs {
    let inFeatures, outFeatures, paramCount: UnsafeMutablePointer<Int>?
    let seed: UnsafeMutablePointer<UInt64>?
    let flags, elementType: UnsafeMutablePointer<UInt32>?

    func write(_ info: LayerFile.Info) {
        inFeatures?.pointee = info.shape.inFeatures
        outFeatures?.pointee = info.shape.outFeatures
        paramCount?.pointee = info.shape.parameterCount
        seed?.pointee = info.seed
        flags?.pointee = info.flags
        elementType?.pointee = info.elementType.rawValue
    }
}

@c @implementation
public func fastfood_load_info(
    _ buffer: UnsafeRawPointer?, _ size: Int, _ in_features: UnsafeMutablePointer<Int>?,
    _ out_features: UnsafeMutablePointer<Int>?, _ seed: UnsafeMutablePointer<UInt64>?, _ flags: UnsafeMutablePointer<UInt32>?,
    _ element_type: UnsafeMutablePointer<UInt32>?, _ param_count: UnsafeMutablePointer<Int>?
) -> fastfood_status {
    exported("fastfood_load_info") { () throws(BoundaryError) in
        let bytes = try Validate.nonNull(buffer, "buffer")
        guard size >= 0 else { throw .sizeOverflow("size (\(unsigned(size))) is larger than any addressable buffer") }
        let (info, layer) = try validate(bytes, size)
        layer.deallocate()
        InfoOutputs(inFeatures: in_features, outFeatures: out_features, paramCount: param_count, seed: seed,
                    flags: flags, elementType: element_type).write(info)
    }
}

@c @implementation
public func fastfood_load_file_info(
    _ path: UnsafePointer<CChar>?, _ in_features: UnsafeMutablePointer<Int>?, _ out_features: UnsafeMutablePointer<Int>?,
    _ seed: UnsafeMutablePointer<UInt64>?, _ flags: UnsafeMutablePointer<UInt32>?,
    _ element_type: UnsafeMutablePointer<UInt32>?, _ param_count: UnsafeMutablePointer<Int>?
) -> fastfood_status {
    exported("fastfood_load_file_info") { () throws(BoundaryError) in
        let (image, size) = try readFile(path)
        defer { free(image) }
        let (info, layer) = try validate(image, size)
        layer.deallocate()
        InfoOutputs(inFeatures: in_features, outFeatures: out_features, paramCount: param_count, seed: seed,
                    flags: flags, elementType: element_type).write(info)
    }
}

/// Validates, then writes the layer and the parameters (only after everything has passed).
private func load(_ bytes: UnsafeRawPointer, _ size: Int, _ type: LayerFile.ElementType,
                  _ outLayer: UnsafeMutablePointer<OpaquePointer?>?, _ params: UnsafeMutableRawPointer?,
                  _ paramCount: Int) throws(BoundaryError) {
    let destination = try Validate.nonNull(outLayer, "out_layer")
    let params = try Validate.nonNull(params, "params")
    let (info, layer) = try validate(bytes, size)
    var owned = true  // until the handle owns it
    defer { if owned { layer.deallocate() } }
    guard info.elementType == type else {
        let other = info.elementType == .float32 ? "float32 parameters: use the _f32 function" : "float64 parameters: use the _f64 function"
        throw .invalidArgument("the data holds \(other)")
    }
    guard paramCount == info.shape.parameterCount else {
        throw .invalidArgument("param_count (\(unsigned(paramCount))) is not the saved parameter count (\(info.shape.parameterCount))")
    }
    owned = false
    guard let handle = LayerHandle.make(layer) else { throw .outOfMemory("could not allocate the layer's handle") }
    LayerFile.readParameters(bytes, info, into: params)
    destination.pointee = handle
}

/// The buffer loads: the buffer and its size checked, then load.
private func loadBuffer(_ buffer: UnsafeRawPointer?, _ size: Int, _ type: LayerFile.ElementType,
                        _ outLayer: UnsafeMutablePointer<OpaquePointer?>?, _ params: UnsafeMutableRawPointer?,
                        _ paramCount: Int) throws(BoundaryError) {
    let bytes = try Validate.nonNull(buffer, "buffer")
    guard size >= 0 else { throw .sizeOverflow("size (\(unsigned(size))) is larger than any addressable buffer") }
    try load(bytes, size, type, outLayer, params, paramCount)
}

/// The file loads: the outputs checked before any I/O (a bad call reads nothing), then load.
private func loadFile(_ path: UnsafePointer<CChar>?, _ type: LayerFile.ElementType,
                      _ outLayer: UnsafeMutablePointer<OpaquePointer?>?, _ params: UnsafeMutableRawPointer?,
                      _ paramCount: Int) throws(BoundaryError) {
    _ = try Validate.nonNull(outLayer, "out_layer")
    _ = try Validate.nonNull(params, "params")
    let (image, size) = try readFile(path)
    defer { free(image) }
    try load(image, size, type, outLayer, params, paramCount)
}

@c @implementation
public func fastfood_load_f32(_ buffer: UnsafeRawPointer?, _ size: Int, _ out_layer: UnsafeMutablePointer<OpaquePointer?>?,
                              _ params: UnsafeMutablePointer<Float>?, _ param_count: Int) -> fastfood_status {
    exported("fastfood_load_f32") { () throws(BoundaryError) in
        try loadBuffer(buffer, size, .float32, out_layer, params.map(UnsafeMutableRawPointer.init), param_count)
    }
}

@c @implementation
public func fastfood_load_f64(_ buffer: UnsafeRawPointer?, _ size: Int, _ out_layer: UnsafeMutablePointer<OpaquePointer?>?,
                              _ params: UnsafeMutablePointer<Double>?, _ param_count: Int) -> fastfood_status {
    exported("fastfood_load_f64") { () throws(BoundaryError) in
        try loadBuffer(buffer, size, .float64, out_layer, params.map(UnsafeMutableRawPointer.init), param_count)
    }
}

@c @implementation
public func fastfood_load_file_f32(_ path: UnsafePointer<CChar>?, _ out_layer: UnsafeMutablePointer<OpaquePointer?>?,
                                   _ params: UnsafeMutablePointer<Float>?, _ param_count: Int) -> fastfood_status {
    exported("fastfood_load_file_f32") { () throws(BoundaryError) in
        try loadFile(path, .float32, out_layer, params.map(UnsafeMutableRawPointer.init), param_count)
    }
}

@c @implementation
public func fastfood_load_file_f64(_ path: UnsafePointer<CChar>?, _ out_layer: UnsafeMutablePointer<OpaquePointer?>?,
                                   _ params: UnsafeMutablePointer<Double>?, _ param_count: Int) -> fastfood_status {
    exported("fastfood_load_file_f64") { () throws(BoundaryError) in
        try loadFile(path, .float64, out_layer, params.map(UnsafeMutableRawPointer.init), param_count)
    }
}
