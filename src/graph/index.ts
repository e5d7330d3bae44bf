export { Graph, Value, attr, type Attr, type DType, type Dim, type Shape, type TensorData, type Node } from './ir.js';
export { GraphError } from './errors.js';
export * as ops from './ops/index.js';
export { gradients, sumToShape } from './autodiff.js';
export { emitOnnx, OnnxSizeError, type EmitOptions, type EmittedModel } from './onnx/emit.js';
export { gradRules, type GradRule, type GradContext } from './gradients/index.js';
