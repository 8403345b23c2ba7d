import type { Architecture, TorchvisionArch } from './architecture.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';

/** Every torchvision architecture `train` builds: a new one is a file in archs/ plus one line here. */
export const architectures: Partial<Record<TorchvisionArch, Architecture>> = { resnet18, resnet34, resnet50 };

export function architecture(name: string): Architecture | undefined {
  return (architectures as Record<string, Architecture | undefined>)[name];
}
