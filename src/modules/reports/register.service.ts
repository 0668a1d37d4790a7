import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import type { AuthUser } from 'src/common/auth-user';
import { readChainHead } from 'src/modules/audit/audit-chain';
import { AuditEvent } from 'src/modules/audit/audit-event.entity';
import { Channel } from 'src/modules/channels/channel.entity';
import { Department } from 'src/modules/departments/department.entity';
import { PostRevision } from 'src/modules/posts/post.entity';
import { PostsService } from 'src/modules/posts/posts.service';
import { UsersService } from 'src/modules/users/users.service';
import { Publication } from 'src/modules/publishing/publication.entity';
import { Decision } from 'src/modules/posts/decision.entity';
import { renderRegister } from 'src/modules/reports/register-html';

/** The printable 审核登记表 of one post, from the rows themselves. */
@Injectable()
export class RegisterService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly posts: PostsService,
    private readonly users: UsersService,
  ) {}

  async html(postId: string, user: AuthUser): Promise<string> {
    const m = this.dataSource.manager;
    const post = await this.posts.visiblePost(m, postId, user);
    const [revisions, decisions, publications, department, events, head] = await Promise.all([
      m.find(PostRevision, {
        where: { postId },
        select: { id: true, number: true, title: true, contentHash: true, createdAt: true },
        order: { number: 'ASC' },
      }),
      m.find(Decision, { where: { postId }, order: { createdAt: 'ASC', level: 'ASC' } }),
      m.find(Publication, { where: { postId }, order: { createdAt: 'ASC', id: 'ASC' } }),
      m.findOneBy(Department, { id: post.departmentId }),
      m.find(AuditEvent, {
        where: { entityType: 'post', entityId: postId },
        select: { id: true, details: true },
        order: { id: 'ASC' },
      }),
      readChainHead(this.dataSource),
    ]);
    const channels = publications.length
      ? await m.find(Channel, {
          where: { id: In([...new Set(publications.map((p) => p.channelId))]) },
          select: { id: true, name: true, platform: true },
        })
      : [];
    const channelOf = new Map(channels.map((c) => [c.id, c]));
    const people = await this.users.people([post.authorId, ...decisions.map((d) => d.reviewerId)]);
    const name = (id: string) => {
      const u = people.get(id);
      return u ? `${u.displayName}（${u.username}）` : id;
    };
    // The audit event that recorded each decision, so the paper copy points into the chain.
    const eventOf = new Map<string, number>();
    for (const ev of events) {
      const details = ev.details ? (JSON.parse(ev.details) as { decisionId?: unknown }) : null;
      if (typeof details?.decisionId === 'string') eventOf.set(details.decisionId, ev.id);
    }
    return renderRegister({
      post: {
        id: post.id,
        title: post.title,
        state: post.state,
        department: department ? `${department.name}（${department.code}）` : post.departmentId,
        author: name(post.authorId),
        createdAt: post.createdAt,
        currentRevisionNumber: post.currentRevisionNumber,
      },
      revisions: revisions.map((r) => ({
        number: r.number,
        title: r.title,
        createdAt: r.createdAt,
        contentHash: r.contentHash,
      })),
      decisions: decisions.map((d) => ({
        round: d.round,
        level: d.level,
        outcome: d.outcome,
        reviewer: name(d.reviewerId),
        roles: d.reviewerRoles.split(',').join(', '),
        createdAt: d.createdAt,
        comment: d.comment,
        revisionNumber: d.revisionNumber,
        contentHash: d.contentHash,
        attestation: d.attestation,
        auditEventId: eventOf.get(d.id) ?? null,
      })),
      publications: publications.map((p) => ({
        channel: channelOf.get(p.channelId)?.name ?? p.channelId,
        platform: channelOf.get(p.channelId)?.platform ?? '',
        status: p.status,
        url: p.url,
        publishedAt: p.publishedAt,
        contentHash: p.contentHash,
        lastError: p.lastError,
      })),
      chainHead: head,
      generatedAt: new Date(),
      generatedBy: `${user.displayName}（${user.username}）`,
    });
  }
}
