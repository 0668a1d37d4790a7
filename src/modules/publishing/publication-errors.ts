import type { AdapterError } from 'src/modules/publishing/adapters/channel-adapter';

/**
 * What an author is told about a failed or retrying publication: a stable code and a short
 * message. The full message (URLs, upstream answers) stays for propaganda reviewers and auditors:
 * shown to whoever wrote the post, an upstream error names internal hosts and ports.
 */
export const PUBLICATION_ERROR_MESSAGES: Record<string, string> = {
  MEDIA_NOT_IMPORTED: '图片未导入，请重新编辑并保存稿件',
  OUTBOUND_UNREACHABLE: '图片无法获取',
  OUTBOUND_ADDRESS_FORBIDDEN: '图片地址不允许访问',
  OUTBOUND_TOO_LARGE: '图片过大',
  OUTBOUND_BAD_TYPE: '图片格式不受支持',
  CONTENT_LIMIT: '稿件超出平台限制',
  COVER_REQUIRED: '该渠道需要封面图片',
  PLATFORM_REJECTED: '平台拒绝了稿件',
  PLATFORM_UNAVAILABLE: '平台暂时无法访问，将自动重试',
  CHANNEL_MISCONFIGURED: '渠道配置有误，请联系管理员',
  PUBLISH_FAILED: '发布失败',
};

/** The code recorded with an adapter's error: its own, else by whether it will be retried. */
export function publicationErrorCode(err: AdapterError): string {
  if (err.code) return err.code;
  return err.retryable ? 'PLATFORM_UNAVAILABLE' : 'PUBLISH_FAILED';
}

export function publicationErrorMessage(code: string | null): string {
  return PUBLICATION_ERROR_MESSAGES[code ?? ''] ?? PUBLICATION_ERROR_MESSAGES.PUBLISH_FAILED;
}
