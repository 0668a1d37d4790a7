import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import { AppConfig } from 'src/config/app-config';
import type { Channel } from 'src/modules/channels/channel.entity';
import type { PostRevision } from 'src/modules/posts/post.entity';
import { PostsService } from 'src/modules/posts/posts.service';
import { ChannelsService } from 'src/modules/channels/channels.service';
import { Publication } from 'src/modules/publishing/publication.entity';

const FEED_SIZE = 50;

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

interface Item {
  postId: string;
  publishedAt: Date;
  rev: PostRevision;
}

/**
 * The public face of a website channel: its published posts as an Atom feed and
 * a page per post. Only `published` publications show; a retracted post is gone
 * the moment its publication leaves that status.
 */
@Injectable()
export class SiteService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly channels: ChannelsService,
    private readonly posts: PostsService,
  ) {}

  async feed(channelId: string): Promise<string> {
    const channel = await this.websiteChannel(channelId);
    const items = await this.items(channelId);
    const base = `${this.config.publicBaseUrl}/sites/${channel.id}`;
    const updated = (items[0]?.publishedAt ?? channel.updatedAt).toISOString();
    const entries = items.map(
      (i) => `  <entry>
    <id>urn:sanshen:post:${i.postId}</id>
    <title>${escapeXml(i.rev.title)}</title>
    <updated>${i.publishedAt.toISOString()}</updated>
    <link rel="alternate" type="text/html" href="${escapeXml(`${base}/posts/${i.postId}`)}"/>
${i.rev.summary ? `    <summary>${escapeXml(i.rev.summary)}</summary>\n` : ''}    <content type="html">${escapeXml(i.rev.body)}</content>
  </entry>`,
    );
    return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:sanshen:channel:${channel.id}</id>
  <title>${escapeXml(channel.name)}</title>
  <updated>${updated}</updated>
  <link rel="self" type="application/atom+xml" href="${escapeXml(`${base}/feed.xml`)}"/>
${entries.join('\n')}
</feed>
`;
  }

  async page(channelId: string, postId: string): Promise<string> {
    const channel = await this.websiteChannel(channelId);
    const [item] = await this.items(channelId, postId);
    if (!item) throw AppException.notFound('Published post', postId);
    const { rev } = item;
    return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(rev.title)} - ${escapeXml(channel.name)}</title>
<link rel="alternate" type="application/atom+xml" href="${escapeXml(`${this.config.publicBaseUrl}/sites/${channel.id}/feed.xml`)}">
</head>
<body>
<article data-content-hash="${rev.contentHash}">
<h1>${escapeXml(rev.title)}</h1>
<p><time datetime="${item.publishedAt.toISOString()}">${item.publishedAt.toISOString().slice(0, 10)}</time> · ${escapeXml(channel.name)}</p>
${rev.coverImageUrl ? `<p><img src="${escapeXml(rev.coverImageUrl)}" alt=""></p>\n` : ''}${rev.body}
</article>
</body>
</html>
`;
  }

  private async websiteChannel(id: string): Promise<Channel> {
    const c = await this.channels.findById(id);
    if (!c || c.platform !== 'website' || !c.active)
      throw AppException.notFound('Website channel', id);
    return c;
  }

  private async items(channelId: string, postId?: string): Promise<Item[]> {
    const qb = this.dataSource
      .getRepository(Publication)
      .createQueryBuilder('pub')
      .where('pub.channelId = :channelId AND pub.status = :status', {
        channelId,
        status: 'published',
      });
    if (postId) qb.andWhere('pub.postId = :postId', { postId });
    const pubs = await qb.orderBy('pub.publishedAt', 'DESC').limit(FEED_SIZE).getMany();
    if (!pubs.length) return [];
    const revs = await this.posts.revisionsByIds(pubs.map((p) => p.revisionId));
    const byId = new Map(revs.map((r) => [r.id, r]));
    return pubs.map((p) => ({
      postId: p.postId,
      publishedAt: p.publishedAt ?? p.updatedAt,
      rev: byId.get(p.revisionId)!,
    }));
  }
}
