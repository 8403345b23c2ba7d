import type { Architecture, TorchvisionArch } from './architecture.js';
import { convnextTiny } from './convnext.js';
import { efficientnetB0 } from './efficientnet.js';
import { mobilenetV3Large, mobilenetV3Small } from './mobilenet-v3.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';

/** Every torchvision architecture `train` builds: a new one is a file in archs/ plus one line here. */
export const architectures: Record<TorchvisionArch, Architecture> = {
  resnet18,
  resnet34,
  resnet50,
  mobilenet_v3_small: mobilenetV3Small,
  mobilenet_v3_large: mobilenetV3Large,
  efficientnet_b0: efficientnetB0,
  convnext_tiny: convnextTiny,
};

export function architecture(name: string): Architecture | undefined {
  return (architectures as Record<string, Architecture | undefined>)[name];
}
