// Shared GraphQL enums of the image-stream model; import these rather than defining them again.
import { builder } from '../builder.ts';

export const TagSourceKindEnum = builder.enumType('TagSourceKind', {
  description: 'What a spec tag points at: a pull spec, another tag, or one image of a stream.',
  values: ['DockerImage', 'ImageStreamTag', 'ImageStreamImage'] as const,
});

export const ReferencePolicyTypeEnum = builder.enumType('ReferencePolicyType', {
  description:
    'Source: consumers pull the image from where it was imported. Local: through this stream.',
  values: ['Source', 'Local'] as const,
});

export const ImportModeEnum = builder.enumType('ImportMode', {
  description: 'Legacy imports one image of a manifest list; PreserveOriginal keeps the list.',
  values: ['Legacy', 'PreserveOriginal'] as const,
});

export const ConditionStatusEnum = builder.enumType('ConditionStatus', {
  values: ['True', 'False', 'Unknown'] as const,
});
